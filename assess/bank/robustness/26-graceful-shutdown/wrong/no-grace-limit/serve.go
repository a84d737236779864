// Package item runs an HTTP server with a graceful shutdown.
package item

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves h on ln until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections and waits up to grace for in-flight requests. It returns nil after
// a clean shutdown, an error wrapping context.DeadlineExceeded when the grace period ran
// out (the remaining connections are then closed), or the error that stopped serving.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served: // the listener failed before any shutdown
		return err
	case <-ctx.Done():
	}

	err := srv.Shutdown(context.Background())
	if err != nil {
		srv.Close()
		err = fmt.Errorf("graceful shutdown: %w", err)
	}
	// srv.Serve returned ErrServerClosed as soon as Shutdown closed the listener; waiting
	// for it keeps its goroutine from outliving Serve.
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
