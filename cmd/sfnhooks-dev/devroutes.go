package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// devRoutes are the dev-only helpers: start and describe executions of the
// example state machines without the AWS CLI. They exist only in make dev.
type devRoutes struct {
	sfn      *sfn.Client
	hooks    *hooks.Client
	machines map[string]string // short name → ARN
	log      *slog.Logger

	mu     sync.Mutex
	latest map[string]string // short name → ARN of the last execution started here
}

type execution struct {
	ExecutionARN string          `json:"executionArn"`
	Name         string          `json:"name"`
	Status       string          `json:"status,omitempty"`
	Input        json.RawMessage `json:"input,omitempty"`
	Output       json.RawMessage `json:"output,omitempty"`
	Error        string          `json:"error,omitempty"`
	Cause        string          `json:"cause,omitempty"`
	StatusURL    string          `json:"statusUrl,omitempty"`
	// Hooks are the execution's live hooks (GET /hooks?executionArn=…),
	// webhooks with their URL.
	Hooks []hooks.HookStatus `json:"hooks,omitempty"`
	// Sent is the message the SendLinks state of approval-links "emailed"
	// (its approve and reject links), read from the execution's history.
	Sent json.RawMessage `json:"sent,omitempty"`
}

// start serves POST /dev/executions/{machine}[?name=…] with the input JSON as body.
func (d *devRoutes) start(w http.ResponseWriter, r *http.Request) {
	short := r.PathValue("machine")
	arn, ok := d.machines[short]
	if !ok {
		devError(w, http.StatusNotFound, "UnknownStateMachine", fmt.Sprintf("no example state machine %q (have: %s)", short, d.names()))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 256*1024+1))
	if err != nil || len(body) > 256*1024 {
		devError(w, http.StatusBadRequest, "InvalidInput", "input: read error or over 256 KiB")
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		devError(w, http.StatusBadRequest, "InvalidInput", "the body (execution input) is not JSON")
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		name = short + "-" + time.Now().UTC().Format("150405") + "-" + hex.EncodeToString(b[:])
	}
	out, err := d.sfn.StartExecution(r.Context(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(arn), Name: aws.String(name), Input: aws.String(string(body)),
	})
	if err != nil {
		d.awsError(w, "start execution", err)
		return
	}
	exe := aws.ToString(out.ExecutionArn)
	d.mu.Lock()
	d.latest[short] = exe
	d.mu.Unlock()
	d.log.InfoContext(r.Context(), "dev: execution started", slog.String("executionArn", exe))
	writeJSON(w, http.StatusOK, execution{
		ExecutionARN: exe, Name: name,
		StatusURL: "http://" + r.Host + "/dev/executions/" + short + "/" + name,
	})
}

// describe serves GET /dev/executions/{machine}/{name}; name "latest" is the
// last execution of machine started through start.
func (d *devRoutes) describe(w http.ResponseWriter, r *http.Request) {
	short, name := r.PathValue("machine"), r.PathValue("name")
	machine, ok := d.machines[short]
	if !ok {
		devError(w, http.StatusNotFound, "UnknownStateMachine", fmt.Sprintf("no example state machine %q (have: %s)", short, d.names()))
		return
	}
	var exe string
	if name == "latest" {
		d.mu.Lock()
		exe = d.latest[short]
		d.mu.Unlock()
		if exe == "" {
			devError(w, http.StatusNotFound, "NoExecution", "no execution of "+short+" was started through this dev server yet")
			return
		}
	} else {
		// arn:aws:states:…:stateMachine:NAME → arn:aws:states:…:execution:NAME:EXEC
		exe = strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + name
	}
	out, err := d.sfn.DescribeExecution(r.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exe)})
	if err != nil {
		d.awsError(w, "describe execution", err)
		return
	}
	view := execution{
		ExecutionARN: exe,
		Name:         aws.ToString(out.Name),
		Status:       string(out.Status),
		Input:        rawJSON(out.Input),
		Output:       rawJSON(out.Output),
		Error:        aws.ToString(out.Error),
		Cause:        aws.ToString(out.Cause),
		Sent:         d.sent(r.Context(), exe),
	}
	for next := ""; ; {
		page, err := d.hooks.ListHooks(r.Context(), hooks.ListHooksInput{ExecutionARN: exe, NextToken: next})
		if err != nil {
			d.log.Error("dev: list hooks", slog.Any("err", err))
			devError(w, http.StatusBadGateway, "StackError", "list hooks: "+err.Error())
			return
		}
		view.Hooks = append(view.Hooks, page.Hooks...)
		if next = page.NextToken; next == "" {
			break
		}
	}
	writeJSON(w, http.StatusOK, view)
}

// sent is the "email" field of the output of the execution's SendLinks
// state (examples/approval-links.asl.json), or nil.
func (d *devRoutes) sent(ctx context.Context, exe string) json.RawMessage {
	p := sfn.NewGetExecutionHistoryPaginator(d.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exe)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil
		}
		for _, ev := range page.Events {
			det := ev.StateExitedEventDetails
			if det == nil || aws.ToString(det.Name) != "SendLinks" {
				continue
			}
			var out struct {
				Email json.RawMessage `json:"email"`
			}
			if json.Unmarshal([]byte(aws.ToString(det.Output)), &out) == nil && len(out.Email) > 0 {
				return out.Email
			}
		}
	}
	return nil
}

func (d *devRoutes) names() string {
	var n []string
	for k := range d.machines {
		n = append(n, k)
	}
	return strings.Join(n, ", ")
}

func (d *devRoutes) awsError(w http.ResponseWriter, what string, err error) {
	if api, ok := errors.AsType[smithy.APIError](err); ok {
		status := http.StatusBadRequest
		switch api.ErrorCode() {
		case "ExecutionDoesNotExist", "StateMachineDoesNotExist":
			status = http.StatusNotFound
		case "ExecutionAlreadyExists":
			status = http.StatusConflict
		}
		devError(w, status, api.ErrorCode(), what+": "+api.ErrorMessage())
		return
	}
	d.log.Error("dev: "+what, slog.Any("err", err))
	devError(w, http.StatusBadGateway, "StackError", what+": "+err.Error())
}

func rawJSON(s *string) json.RawMessage {
	if s == nil || !json.Valid([]byte(*s)) {
		return nil
	}
	return json.RawMessage(*s)
}

func devError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
