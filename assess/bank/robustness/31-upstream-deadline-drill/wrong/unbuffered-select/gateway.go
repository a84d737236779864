// Package item is an API gateway in front of the pricing service.
package item

import (
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
	type result struct {
		price string
		err   error
	}
	done := make(chan result)
	go func() {
		price, err := g.price(r.URL.Query().Get("sku"))
		done <- result{price, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		if res.err != nil {
			http.Error(w, res.err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, res.price)
	case <-timer.C:
		http.Error(w, "the pricing service did not answer in time", http.StatusGatewayTimeout)
	case <-r.Context().Done():
	}
}

// price asks the pricing service for sku's price.
func (g *Gateway) price(sku string) (string, error) {
	resp, err := g.Client.Get(g.Upstream + "/price?sku=" + url.QueryEscape(sku))
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
