package analysis

import "testing"

// Analyze sums per bucket in arrays indexed by bucketIndex, which must follow
// Buckets.
func TestBucketIndex(t *testing.T) {
	if numBuckets != len(Buckets) {
		t.Fatalf("numBuckets = %d, len(Buckets) = %d", numBuckets, len(Buckets))
	}
	for i, b := range Buckets {
		if got := bucketIndex(b); got != i {
			t.Errorf("bucketIndex(%s) = %d, want %d", b, got, i)
		}
	}
}
