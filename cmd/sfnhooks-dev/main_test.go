package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// devServer runs make dev (run) on the test's stack, on a free loopback
// port, until the test ends, and returns its API URL. userASL are -asl's
// files.
func devServer(t *testing.T, userASL ...string) string {
	t.Helper()
	stacktest.RequireStack(t)
	statePath := filepath.Join(t.TempDir(), "dev.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- run(ctx, log, filepath.Join("..", ".."), "127.0.0.1:0", statePath, userASL...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("make dev: %v", err)
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile(statePath)
		var st devState
		if err == nil && json.Unmarshal(b, &st) == nil && st.APIURL != "" {
			return st.APIURL
		}
		select {
		case err := <-done:
			t.Fatalf("make dev ended before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("make dev wrote no %s within 60 s", statePath)
		}
	}
}

func call(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// On make dev, as on AWS, a resume after StopExecution answers 404 and the
// hook is disposed (issue 21). moto 5.2.5 kept a stopped execution RUNNING
// and accepted its task token, so the resume answered 200 and the hook
// stayed; scripts/moto_server.py aborts it at once.
func TestDevStopExecution(t *testing.T) {
	api := devServer(t)
	order := "stop-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	token := "approval-" + order
	status, body := call(t, "POST", api+"/dev/executions/approval", `{"orderId":"`+order+`"}`)
	var started struct {
		ExecutionARN string `json:"executionArn"`
	}
	if status != http.StatusOK && status != http.StatusCreated || json.Unmarshal(body, &started) != nil || started.ExecutionARN == "" {
		t.Fatalf("start: %d %s", status, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, body = call(t, "GET", api+"/hooks/"+token, "")
		var st hooks.HookStatus
		if status == http.StatusOK && json.Unmarshal(body, &st) == nil && st.Waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the approval hook is not waiting after 30 s: %d %s", status, body)
		}
	}
	stk := stacktest.RequireStack(t)
	sf := sfn.NewFromConfig(devstack.AWSConfig(stk.MotoURL.String()))
	if _, err := sf.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: &started.ExecutionARN}); err != nil {
		t.Fatal(err)
	}
	status, body = call(t, "POST", api+"/hooks/"+token, `{"approved": true}`)
	var apiErr hooks.APIError
	if status != http.StatusNotFound || json.Unmarshal(body, &apiErr) != nil || apiErr.Code != hooks.CodeHookNotFound {
		t.Fatalf("resume after StopExecution: %d %s, want 404 %s", status, body, hooks.CodeHookNotFound)
	}
	// Disposed: by the resume that found the execution over, or by the
	// end-of-execution event (make dev's poller), whichever came first.
	client, err := hooks.New(devstack.AWSConfig(stk.MotoURL.String()), func(o *hooks.Options) { o.TableName = tableName })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetHook(context.Background(), token); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("the stopped execution's hook after the 404: %v, want it disposed (ErrHookNotFound)", err)
	}
	if status, body = call(t, "GET", api+"/dev/executions/approval/latest", ""); !bytes.Contains(body, []byte(`"ABORTED"`)) {
		t.Errorf("the execution after StopExecution: %d %s, want ABORTED", status, body)
	}
}
