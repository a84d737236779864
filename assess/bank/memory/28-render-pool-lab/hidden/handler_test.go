package main

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

func TestReportIsTheRenderedReport(t *testing.T) {
	for i := 0; i < 3; i++ { // again and again: a reused buffer must hold this report only
		rec := httptest.NewRecorder()
		report(rec, httptest.NewRequest("GET", "/report", nil))
		var want bytes.Buffer
		render(&want, reports.Load())
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), want.Bytes()) {
			t.Fatalf("request %d: got %d, %d bytes; want 200, %d bytes (report %d)", i+1, rec.Code, rec.Body.Len(), want.Len(), reports.Load())
		}
	}
}
