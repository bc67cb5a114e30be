package awsmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// BenchmarkScale prints, side by side, what three designs of "resume a
// waiting workflow" carry on the model at a per-call latency:
//
//   - naive: the AWS sample pattern. An await stores its task token in an
//     item; a resume reads it (GetItem), SendTaskSuccess, DeleteItem. No
//     buffering: a resume with no await parked is refused.
//   - previous: the append path of the previous protocol (git a592bb1,
//     pkg/hooks/resume.go: resume, takeWaiter, appendPayload): S1 is
//     conditioned on seq = :n (the count it read), the payload is stored
//     as MSG#<hookId>#<zero-padded seq>, a canceled S1 is retried at
//     once, 25 attempts in all, then 503 (ErrContention). Reimplemented
//     here (resumePrevious); its awaits are the current library's, which
//     read the same items.
//   - current: pkg/hooks as it is, on the model.
//
// Each design runs a hot hook (one hook awaited in a loop, SFNHOOKS_SCALE_HOT
// resumes, SFNHOOKS_SCALE_INFLIGHT at a time) and many hooks
// (SFNHOOKS_SCALE_HOOKS hooks, each with an await parked, one resume each
// up to SFNHOOKS_SCALE_RESUMES). SFNHOOKS_SCALE_LATENCY sets the per-call
// latency (default 5ms). Run once: -benchtime=1x (make scale).
func BenchmarkScale(b *testing.B) {
	lat := envDur("SFNHOOKS_SCALE_LATENCY", 5*time.Millisecond)
	hot := envInt("SFNHOOKS_SCALE_HOT", 500)
	inflight := envInt("SFNHOOKS_SCALE_INFLIGHT", 64)
	nhooks := envInt("SFNHOOKS_SCALE_HOOKS", 10000)
	nres := envInt("SFNHOOKS_SCALE_RESUMES", 10000)
	designs := []string{"naive", "previous", "current"}
	var rows []result
	if os.Getenv("SFNHOOKS_SCALE_BATCH_ONLY") != "" {
		designs = nil // the batch rows alone
	}
	for b.Loop() {
		rows = rows[:0]
		for _, d := range designs {
			rows = append(rows, run(b, d, fmt.Sprintf("hot hook (%d resumes, %d in flight)", hot, inflight), 1, hot, inflight, lat))
		}
		for _, d := range designs[min(1, len(designs)):] {
			rows = append(rows, run(b, d, fmt.Sprintf("hot hook, writes wait for transactions (%d, %d)", hot, inflight), 1, hot, inflight, lat))
		}
		for _, d := range designs {
			rows = append(rows, run(b, d, fmt.Sprintf("%d hooks (%d resumes, %d in flight)", nhooks, nres, inflight), nhooks, nres, inflight, lat))
		}
	}
	var batch []batchResult
	for _, mb := range []int{0, 1, 10, 100} {
		batch = append(batch, runBatch(b, hot, inflight, lat, mb))
	}
	fmt.Printf("\nmodel: %v per call, 1,000 WCU/s and 3,000 RCU/s per partition, SDK retries of throttling (3 attempts)\n\n", lat)
	fmt.Println("| scenario | design | acknowledged/s | AWS calls/resume | p50 | p99 | refused | delivered | throttled | conflicts |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Println()
	fmt.Printf("batch awaits: hot hook (%d resumes, %d in flight), one await loop (an await Task and a Choice: 2 state transitions per await)\n\n", hot, inflight)
	fmt.Println("| await | acknowledged/s | delivered/s | delivered | awaits | payloads/await | AWS calls/delivered | of them await calls | transitions/delivered | WRU/delivered | RRU/delivered | p99 ack→delivery | await invocation (mean) | conflicts |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range batch {
		fmt.Println(r)
	}
	fmt.Println()
	fmt.Printf("batch awaits: the loop alone drains %d payloads stored before its first await\n\n", hot)
	fmt.Println("| await | delivered/s | awaits | AWS calls/delivered | transitions/delivered | WRU/delivered | RRU/delivered |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, mb := range []int{0, 1, 10, 100} {
		fmt.Println(runDrain(b, hot, lat, mb))
	}
	fmt.Println()
}

// runDrain stores n payloads on a hook, then runs one await loop with
// maxBatch until it has them all: the loop's own rate and cost.
func runDrain(b *testing.B, n int, lat time.Duration, maxBatch int) string {
	db := NewDynamoDB(Config{Latency: lat, SDKRetries: true})
	sf := NewStepFunctions(lat)
	calls := &awscalls.Counter{}
	c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = countedDB{db, calls}
		o.StepFunctions = countedSFN{sf, calls}
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	const token = "drain"
	exec := "arn:aws:states:us-east-1:123456789012:execution:sm:drain"
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: exec}); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); err != nil {
				b.Errorf("drain: resume: %v", err)
			}
		})
	}
	wg.Wait()
	calls.Reset()
	wru0, rru0 := db.Units()
	start := time.Now()
	got, awaits := 0, 0
	for k := 0; got < n && time.Since(start) < time.Minute; k++ {
		tt := "d-" + strconv.Itoa(k)
		t := sf.NewTask(tt, exec)
		if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: exec}, TaskToken: tt, MaxBatch: maxBatch}); err != nil {
			b.Fatalf("drain: await: %v", err)
		}
		<-t.Done
		awaits++
		if maxBatch == 0 {
			got++
			continue
		}
		var bt struct{ Items []json.RawMessage }
		if err := json.Unmarshal([]byte(t.Output), &bt); err != nil {
			b.Fatalf("drain: output: %v", err)
		}
		got += len(bt.Items)
	}
	wall := time.Since(start)
	wru, rru := db.Units()
	name := "single (no maxBatch)"
	if maxBatch > 0 {
		name = fmt.Sprintf("maxBatch %d", maxBatch)
	}
	d := float64(max(got, 1))
	return fmt.Sprintf("| %s | %.0f | %d | %.2f | %.3f | %.2f | %.2f |", name, float64(got)/wall.Seconds(), awaits,
		float64(calls.Total())/d, 2*float64(awaits)/d, (wru-wru0)/d, (rru-rru0)/d)
}

type batchResult struct {
	maxBatch                 int
	acked, delivered, awaits int
	ackWall, dlvWall         time.Duration
	calls, awaitCalls        int
	wru, rru                 float64
	p99                      time.Duration
	awaitTime                time.Duration // the await invocations' time, summed
	conflicts                int64
}

func (r batchResult) String() string {
	name := "single (no maxBatch)"
	if r.maxBatch > 0 {
		name = fmt.Sprintf("maxBatch %d", r.maxBatch)
	}
	d := float64(max(r.delivered, 1))
	mean := time.Duration(0)
	if r.awaits > 0 {
		mean = r.awaitTime / time.Duration(r.awaits)
	}
	return fmt.Sprintf("| %s | %.0f | %.0f | %d/%d | %d | %.1f | %.2f | %.2f | %.3f | %.2f | %.2f | %v | %v | %d |", name,
		float64(r.acked)/r.ackWall.Seconds(), float64(r.delivered)/r.dlvWall.Seconds(), r.delivered, r.acked, r.awaits,
		float64(r.delivered)/float64(max(r.awaits, 1)), float64(r.calls)/d, float64(r.awaitCalls)/d, 2*float64(r.awaits)/d,
		r.wru/d, r.rru/d, r.p99.Round(time.Millisecond), mean.Round(time.Millisecond), r.conflicts)
}

// runBatch is the hot hook with one await loop awaiting with maxBatch (0:
// a single await): how fast the loop drains the hook, and what each
// delivered payload costs (every call of resumers and awaits, state
// transitions, capacity units), and the time from a resume's
// acknowledgement to its payload's delivery.
func runBatch(b *testing.B, nres, inflight int, lat time.Duration, maxBatch int) batchResult {
	db := NewDynamoDB(Config{Latency: lat, SDKRetries: true})
	sf := NewStepFunctions(lat)
	resumeCalls, awaitCalls := &awscalls.Counter{}, &awscalls.Counter{}
	mk := func(calls *awscalls.Counter) *hooks.Client {
		c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
			o.TableName = table
			o.DynamoDB = countedDB{db, calls}
			o.StepFunctions = countedSFN{sf, calls}
		})
		if err != nil {
			panic(err)
		}
		return c
	}
	awaiter, resumer := mk(awaitCalls), mk(resumeCalls)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const token = "hot"
	exec := "arn:aws:states:us-east-1:123456789012:execution:sm:hot"
	ackAt := make([]time.Time, nres)
	dlvAt := make([]time.Time, nres)
	var mu sync.Mutex
	var delivered, awaits int
	var lastDelivery time.Time
	var awaitTime time.Duration
	parked := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := true
		for n := 0; ctx.Err() == nil; n++ {
			tt := "task-" + strconv.Itoa(n)
			t := sf.NewTask(tt, exec)
			in := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: exec}, TaskToken: tt, MaxBatch: maxBatch}
			t0 := time.Now()
			err := awaiter.Await(ctx, in)
			for k := 0; err != nil && ctx.Err() == nil && k < 20; k++ {
				time.Sleep(time.Duration(k+1) * 10 * time.Millisecond) // the state machine's Retry, same token
				err = awaiter.Await(ctx, in)
			}
			if !first {
				mu.Lock()
				awaitTime += time.Since(t0)
				mu.Unlock()
			}
			if first {
				close(parked)
				first = false
			}
			if err != nil {
				if ctx.Err() == nil {
					b.Errorf("batch %d: await: %v", maxBatch, err)
				}
				return
			}
			select {
			case <-t.Done:
			case <-ctx.Done():
				return
			}
			now := time.Now()
			if t.Failed {
				continue
			}
			var outs []string
			if maxBatch > 0 {
				var bt struct{ Items []json.RawMessage }
				if err := json.Unmarshal([]byte(t.Output), &bt); err != nil {
					b.Errorf("batch %d: output %.60q: %v", maxBatch, t.Output, err)
					return
				}
				for _, it := range bt.Items {
					outs = append(outs, string(it))
				}
			} else {
				outs = []string{t.Output}
			}
			mu.Lock()
			awaits++
			for _, o := range outs {
				var p struct{ N int }
				if json.Unmarshal([]byte(o), &p) == nil && p.N >= 0 && p.N < nres && dlvAt[p.N].IsZero() {
					dlvAt[p.N] = now
					delivered++
				}
			}
			lastDelivery = now
			mu.Unlock()
		}
	}()
	<-parked
	awaitCalls.Reset()
	db.mu.Lock()
	conf0 := db.Conflicts
	db.mu.Unlock()
	wru0, rru0 := db.Units()
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	acked := 0
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if _, err := resumer.ResumeHook(ctx, token, map[string]int{"n": i}); err == nil {
					mu.Lock()
					ackAt[i] = time.Now()
					acked++
					mu.Unlock()
				}
			}
		}()
	}
	for i := range nres {
		work <- i
	}
	close(work)
	wg.Wait()
	r := batchResult{maxBatch: maxBatch, ackWall: time.Since(start)}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		all := delivered >= acked
		mu.Unlock()
		if all {
			break
		}
	}
	mu.Lock()
	r.acked, r.delivered, r.awaits, r.dlvWall, r.awaitTime = acked, delivered, awaits, lastDelivery.Sub(start), awaitTime
	var lats []time.Duration
	for i := range nres {
		if !ackAt[i].IsZero() && !dlvAt[i].IsZero() {
			lats = append(lats, max(dlvAt[i].Sub(ackAt[i]), 0))
		}
	}
	mu.Unlock()
	r.calls = resumeCalls.Total() + awaitCalls.Total()
	r.awaitCalls = awaitCalls.Total()
	if len(lats) > 0 {
		sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
		r.p99 = lats[len(lats)*99/100]
	}
	db.mu.Lock()
	r.conflicts = db.Conflicts - conf0
	db.mu.Unlock()
	wru, rru := db.Units()
	r.wru, r.rru = wru-wru0, rru-rru0
	cancel()
	<-done
	return r
}

type result struct {
	scenario, design     string
	resumes, acked       int
	refused              map[string]int
	wall                 time.Duration
	calls                int
	p50, p99             time.Duration
	delivered            int64
	throttled, conflicts int64
}

func (r result) String() string {
	var ref []string
	n := 0
	for k, v := range r.refused {
		ref = append(ref, fmt.Sprintf("%d %s", v, k))
		n += v
	}
	sort.Strings(ref)
	refused := "0"
	if n > 0 {
		refused = fmt.Sprintf("%.1f%% (%s)", 100*float64(n)/float64(r.resumes), strings.Join(ref, ", "))
	}
	return fmt.Sprintf("| %s | %s | %.0f | %.2f | %v | %v | %s | %d/%d | %d | %d |", r.scenario, r.design,
		float64(r.acked)/r.wall.Seconds(), float64(r.calls)/float64(r.resumes),
		r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), refused, r.delivered, r.acked, r.throttled, r.conflicts)
}

type design struct {
	await  func(ctx context.Context, token, exec, taskToken string) error
	resume func(ctx context.Context, token string, i int) error
}

const table = "hooks"

func newDesign(name string, db *DynamoDB, sf *StepFunctions, resumeCalls *awscalls.Counter) design {
	mk := func(calls *awscalls.Counter) *hooks.Client {
		c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
			o.TableName = table
			o.DynamoDB = countedDB{db, calls}
			o.StepFunctions = countedSFN{sf, calls}
		})
		if err != nil {
			panic(err)
		}
		return c
	}
	awaiter := mk(&awscalls.Counter{})
	resumer := mk(resumeCalls)
	rdb, rsf := countedDB{db, resumeCalls}, countedSFN{sf, resumeCalls}
	libAwait := func(ctx context.Context, token, exec, tt string) error {
		return awaiter.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: exec}, TaskToken: tt})
	}
	switch name {
	case "naive":
		return design{
			await: func(ctx context.Context, token, exec, tt string) error {
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
					"pk": str("TOKEN#" + token), "sk": str("T"), "taskToken": str(tt)}})
				return err
			},
			resume: func(ctx context.Context, token string, i int) error {
				key := map[string]types.AttributeValue{"pk": str("TOKEN#" + token), "sk": str("T")}
				out, err := rdb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
				if err != nil {
					return err
				}
				tt, ok := out.Item["taskToken"].(*types.AttributeValueMemberS)
				if !ok {
					return hooks.ErrHookNotFound
				}
				if _, err := rsf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &tt.Value, Output: aws.String(`{"n":` + strconv.Itoa(i) + `}`)}); err != nil {
					return err
				}
				_, err = rdb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key,
					ConditionExpression:       aws.String("taskToken = :tt"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":tt": tt}})
				var ccf *types.ConditionalCheckFailedException
				if errors.As(err, &ccf) {
					err = nil // the next await already parked
				}
				return err
			},
		}
	case "previous":
		return design{await: libAwait, resume: func(ctx context.Context, token string, i int) error {
			return resumePrevious(ctx, rdb, rsf, token, `{"n":`+strconv.Itoa(i)+`}`)
		}}
	default:
		return design{await: libAwait, resume: func(ctx context.Context, token string, i int) error {
			_, err := resumer.ResumeHook(ctx, token, map[string]int{"n": i})
			return err
		}}
	}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func numv(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

var idSeq atomic.Int64

// resumePrevious is the resume of git a592bb1 (pkg/hooks/resume.go), the
// plain-hook path without redrive: R1 takes a parked await; else S1 appends
// conditioned on the seq read; a canceled S1 starts over at once; 25
// attempts (Options.MaxAttempts), then ErrContention (503).
func resumePrevious(ctx context.Context, db hooks.DynamoDBAPI, sf hooks.StepFunctionsAPI, token, payload string) error {
	key := map[string]types.AttributeValue{"pk": str("HOOK#" + token), "sk": str("HOOK")}
	for range 25 {
		id := "r" + strconv.FormatInt(idSeq.Add(1), 10)
		f := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"id": str(id), "at": numv(time.Now().UnixMilli()), "redriven": &types.AttributeValueMemberBOOL{}, "payload": str(payload),
			"pos": str(fmt.Sprintf("%016x.%s", time.Now().UnixMicro(), id))}}
		out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: key,
			ConditionExpression:                 aws.String("attribute_exists(#waiter) AND attribute_not_exists(#inflight)"),
			UpdateExpression:                    aws.String("SET #inflight = :f, #seq = #seq + :one, #dlv = #dlv + :one"),
			ExpressionAttributeNames:            map[string]string{"#waiter": "waiter", "#inflight": "inflight", "#seq": "seq", "#dlv": "dlv"},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":f": f, ":one": numv(1)},
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			w := out.Attributes["waiter"].(*types.AttributeValueMemberS).Value
			_, err = sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &w, Output: &payload})
			return err
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return err
		}
		if ccf.Item == nil {
			return hooks.ErrHookNotFound
		}
		hid := ccf.Item["hookId"].(*types.AttributeValueMemberS).Value
		seq, _ := strconv.ParseInt(ccf.Item["seq"].(*types.AttributeValueMemberN).Value, 10, 64)
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String(table), Key: key,
				ConditionExpression:       aws.String("#hookId = :hid AND #seq = :n AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))"),
				UpdateExpression:          aws.String("SET #seq = :next"),
				ExpressionAttributeNames:  map[string]string{"#hookId": "hookId", "#seq": "seq", "#waiter": "waiter", "#inflight": "inflight"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":hid": str(hid), ":n": numv(seq), ":next": numv(seq + 1)}}},
			{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{
				"pk": str("HOOK#" + token), "sk": str(fmt.Sprintf("MSG#%s#%020d", hid, seq+1)), "payload": str(payload),
				"expiresAt": numv(time.Now().Add(24 * time.Hour).Unix())},
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": "pk"}}},
		}})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return err
		}
	}
	return hooks.ErrContention
}

// run drives one design through one scenario on a fresh model.
func run(b *testing.B, name, scenario string, nhooks, nres, inflight int, lat time.Duration) result {
	db := NewDynamoDB(Config{Latency: lat, SDKRetries: true, WritesWait: strings.Contains(scenario, "writes wait")})
	sf := NewStepFunctions(lat)
	resumeCalls := &awscalls.Counter{}
	d := newDesign(name, db, sf, resumeCalls)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var delivered atomic.Int64
	var parked sync.WaitGroup
	var consumers sync.WaitGroup
	var seq atomic.Int64
	token := func(h int) string { return "hook-" + strconv.Itoa(h) }
	// One await loop per hook: each await is a new task of the hook's
	// execution; when its task completes, the execution awaits again.
	sem := make(chan struct{}, 256)
	for h := range nhooks {
		parked.Add(1)
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			exec := "arn:aws:states:us-east-1:123456789012:execution:sm:" + token(h)
			first := true
			for ctx.Err() == nil {
				tt := "task-" + strconv.FormatInt(seq.Add(1), 10)
				t := sf.NewTask(tt, exec)
				if first {
					sem <- struct{}{}
				}
				err := d.await(ctx, token(h), exec, tt)
				for n := 0; err != nil && ctx.Err() == nil && n < 20; n++ {
					// The invocation failed (a TransactionConflictException
					// on the hook item): the state machine's Retry runs it
					// again, same task token.
					time.Sleep(time.Duration(n+1) * 10 * time.Millisecond)
					err = d.await(ctx, token(h), exec, tt)
				}
				if first {
					<-sem
					parked.Done()
					first = false
				}
				if err != nil {
					if ctx.Err() == nil {
						b.Errorf("%s: await: %v", name, err)
					}
					return
				}
				select {
				case <-t.Done:
					if !t.Failed {
						delivered.Add(1)
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	parked.Wait()
	db.mu.Lock()
	thr0, conf0 := db.Throttled, db.Conflicts
	db.mu.Unlock()

	lats := make([]time.Duration, nres)
	errs := make([]error, nres)
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				t0 := time.Now()
				errs[i] = d.resume(ctx, token(i%nhooks), i)
				lats[i] = time.Since(t0)
			}
		}()
	}
	for i := range nres {
		work <- i
	}
	close(work)
	wg.Wait()
	wall := time.Since(start)

	r := result{scenario: scenario, design: name, resumes: nres, wall: wall, refused: map[string]int{}, calls: resumeCalls.Total()}
	for _, err := range errs {
		switch {
		case err == nil:
			r.acked++
		case errors.Is(err, hooks.ErrContention):
			r.refused["503"]++
		case errors.Is(err, hooks.ErrHookNotFound):
			r.refused["not found"]++
		default:
			var e interface{ ErrorCode() string }
			if errors.As(err, &e) {
				r.refused[e.ErrorCode()]++
			} else {
				r.refused["error"]++
			}
		}
	}
	// Wait for the await loops to take what was acknowledged.
	for deadline := time.Now().Add(10 * time.Second); delivered.Load() < int64(r.acked) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	r.delivered = delivered.Load()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	r.p50, r.p99 = lats[len(lats)/2], lats[len(lats)*99/100]
	db.mu.Lock()
	r.throttled, r.conflicts = db.Throttled-thr0, db.Conflicts-conf0
	db.mu.Unlock()
	cancel()
	consumers.Wait()
	return r
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDur(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// countedDB and countedSFN count the calls of one side (the resumers).
type countedDB struct {
	hooks.DynamoDBAPI
	c *awscalls.Counter
}

func (d countedDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	d.c.Inc("DynamoDB.GetItem")
	return d.DynamoDBAPI.GetItem(ctx, in, o...)
}
func (d countedDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	d.c.Inc("DynamoDB.PutItem")
	return d.DynamoDBAPI.PutItem(ctx, in, o...)
}
func (d countedDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.c.Inc("DynamoDB.UpdateItem")
	return d.DynamoDBAPI.UpdateItem(ctx, in, o...)
}
func (d countedDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	d.c.Inc("DynamoDB.DeleteItem")
	return d.DynamoDBAPI.DeleteItem(ctx, in, o...)
}
func (d countedDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	d.c.Inc("DynamoDB.Query")
	return d.DynamoDBAPI.Query(ctx, in, o...)
}
func (d countedDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.c.Inc("DynamoDB.TransactWriteItems")
	return d.DynamoDBAPI.TransactWriteItems(ctx, in, o...)
}
func (d countedDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	d.c.Inc("DynamoDB.BatchWriteItem")
	return d.DynamoDBAPI.BatchWriteItem(ctx, in, o...)
}

type countedSFN struct {
	hooks.StepFunctionsAPI
	c *awscalls.Counter
}

func (s countedSFN) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	s.c.Inc("SFN.SendTaskSuccess")
	return s.StepFunctionsAPI.SendTaskSuccess(ctx, in, o...)
}
func (s countedSFN) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	s.c.Inc("SFN.SendTaskFailure")
	return s.StepFunctionsAPI.SendTaskFailure(ctx, in, o...)
}
func (s countedSFN) DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, o ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	s.c.Inc("SFN.DescribeExecution")
	return s.StepFunctionsAPI.DescribeExecution(ctx, in, o...)
}
func (s countedSFN) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, o ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	s.c.Inc("SFN.GetExecutionHistory")
	return s.StepFunctionsAPI.GetExecutionHistory(ctx, in, o...)
}

func (d countedDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	d.c.Inc("DynamoDB.BatchGetItem")
	return d.DynamoDBAPI.BatchGetItem(ctx, in, o...)
}

func (s countedSFN) SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, o ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	s.c.Inc("SFN.SendTaskHeartbeat")
	return s.StepFunctionsAPI.SendTaskHeartbeat(ctx, in, o...)
}
