package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

type Order struct {
	ID    int     `json:"id"`
	SKU   string  `json:"sku"`
	Price float64 `json:"price"`
}

// decodeBatch is called for every request of the payment gateway (1,200 per second).
func decodeBatch(body []byte) ([]Order, error) {
	var orders []Order // grown by json as it decodes
	err := json.Unmarshal(body, &orders)
	return orders, err
}

func main() {
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; i < 500; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":%d,"sku":"SKU-%06d","price":%d.99}`, i, i, i%100)
	}
	sb.WriteString("]")
	body := []byte(sb.String())

	total := 0
	for req := 0; req < 400; req++ {
		orders, err := decodeBatch(body)
		if err != nil {
			panic(err)
		}
		total += len(orders)
	}
	fmt.Println("orders:", total)
}
