package item

import "testing"

func TestJobsInOrder(t *testing.T) {
	var jobs []Job
	for i := 0; i < 20; i++ {
		i := i
		jobs = append(jobs, func() (int, error) { return i * i, nil })
	}
	for i, r := range Run(jobs, 3) {
		if r.Err != nil || r.Value != i*i {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
}
