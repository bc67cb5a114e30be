package faults

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Answers says which calls were made and what each answered, the crashed
// one included, so that a test can tell whether an operation that died had
// made a write that succeeded.
func TestAnswers(t *testing.T) {
	in := New()
	refused := errors.New("condition failed")
	call := func(op string, err error) func() {
		return func() { _, _ = do(in, op, func() (int, error) { return 0, err }) }
	}
	in.CrashAt(3, After)
	in.FailWith(func(c Call) error {
		if c.N == 2 {
			return errors.New("throttled")
		}
		return nil
	})
	crash := Recover(func() {
		call("DynamoDB.UpdateItem", refused)()
		call("DynamoDB.Query", nil)()
		call("DynamoDB.TransactWriteItems", nil)()
		call("never", nil)()
	})
	if crash == nil || crash.Call.N != 3 {
		t.Fatalf("crash %v, want after call 3", crash)
	}
	got := in.Answers()
	want := []struct {
		op   string
		made bool
		err  string
	}{
		{"DynamoDB.UpdateItem", true, "condition failed"},
		{"DynamoDB.Query", false, "throttled"},
		{"DynamoDB.TransactWriteItems", true, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("answers %+v, want %d", got, len(want))
	}
	for i, w := range want {
		a := got[i]
		errText := ""
		if a.Err != nil {
			errText = a.Err.Error()
		}
		if a.N != i+1 || a.Op != w.op || a.Made != w.made || errText != w.err {
			t.Errorf("answer %d: %+v, want %s made %v err %q", i+1, a, w.op, w.made, w.err)
		}
	}
	in.CrashAt(1, Before)
	if c := Recover(call("DynamoDB.GetItem", nil)); c == nil {
		t.Fatal("no crash before call 1")
	}
	if got := in.Answers(); len(got) != 1 || got[0].Made {
		t.Errorf("after a crash before call 1: %+v, want it listed, not made", got)
	}
	in.Reset()
	if got := in.Answers(); len(got) != 0 {
		t.Errorf("after Reset: %+v, want none", got)
	}
}

// GetExecutionHistory pages as AWS does: MaxResults events a page, newest
// first with ReverseOrder, and a NextToken that goes on after the last
// event returned.
func TestTasksHistoryPages(t *testing.T) {
	tasks := NewTasks()
	for i := range 5 {
		tasks.Schedule(string(rune('a' + i))) // 2 events each
	}
	for _, reverse := range []bool{false, true} {
		var ids []int64
		in := &sfn.GetExecutionHistoryInput{MaxResults: 4, ReverseOrder: reverse}
		pages := 0
		for {
			out, err := tasks.GetExecutionHistory(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Events) > 4 {
				t.Fatalf("a page of %d events, want at most 4", len(out.Events))
			}
			for _, ev := range out.Events {
				ids = append(ids, ev.Id)
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		if reverse {
			slices.Reverse(want)
		}
		if pages != 3 || !slices.Equal(ids, want) {
			t.Errorf("reverse %v: %d pages of ids %v, want 3 pages of %v", reverse, pages, ids, want)
		}
	}
}
