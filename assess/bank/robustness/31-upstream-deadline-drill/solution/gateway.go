// Package item is an API gateway in front of the pricing service.
package item

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds each request's work when Gateway.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Gateway serves GET /quote?sku=X with the pricing service's price for X.
type Gateway struct {
	Upstream string        // the pricing service: GET <Upstream>/price?sku=X answers the price
	Client   *http.Client  // for the upstream calls
	Timeout  time.Duration // the budget of one request; zero: DefaultTimeout
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	timeout := g.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	// Derived from the request's context: a client that goes away cancels the call too.
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	price, err := g.price(ctx, r.URL.Query().Get("sku"))
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "the pricing service did not answer in time", http.StatusGatewayTimeout)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintln(w, price)
}

// price asks the pricing service for sku's price; the call ends when ctx does.
func (g *Gateway) price(ctx context.Context, sku string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.Upstream+"/price?sku="+url.QueryEscape(sku), nil)
	if err != nil {
		return "", err
	}
	resp, err := g.Client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("pricing: %s", resp.Status)
	}
	return strings.TrimSpace(string(body)), nil
}
