package devstack_test

// The behaviours of moto 5.2.5 that sfnhooks and its tests rely on, or must work
// around, each checked against the running stack. The package doc (doc.go) sums
// them up; when a moto upgrade changes one, a test here fails first. Letters refer
// to that list.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
)

// errorCode is the API error code of err, "<nil>" for no error.
func errorCode(err error) string {
	if err == nil {
		return "<nil>"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func noRetry(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

type (
	av  = ddbtypes.AttributeValue
	avS = ddbtypes.AttributeValueMemberS
	avN = ddbtypes.AttributeValueMemberN
	avL = ddbtypes.AttributeValueMemberL
	avM = ddbtypes.AttributeValueMemberM
)

func s(v string) av { return &avS{Value: v} }
func n(v string) av { return &avN{Value: v} }

// createTable creates a table with a string hash key "pk" and, when gsi is set, a
// sparse global secondary index "gsi" on the string attribute "gpk".
func createTable(t *testing.T, db *dynamodb.Client, gsi bool) string {
	t.Helper()
	table := stacktest.UniqueName(t, "tbl")
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}
	if gsi {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			ddbtypes.AttributeDefinition{AttributeName: aws.String("gpk"), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{
			IndexName:  aws.String("gsi"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("gpk"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}}
	}
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return table
}

func TestMotoDynamoDB(t *testing.T) {
	stk := stacktest.RequireStack(t)
	db := dynamodb.NewFromConfig(devstack.AWSConfig(stk.MotoURL.String()))
	ctx := context.Background()
	table := createTable(t, db, true)
	key := func(pk string) map[string]av { return map[string]av{"pk": s(pk)} }
	put := func(item map[string]av) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatalf("put item: %v", err)
		}
	}

	t.Run("a/ConditionalCheckFailedException carries the ALL_OLD item", func(t *testing.T) {
		put(map[string]av{"pk": s("a"), "waiter": s("task-token"), "seq": n("3")})
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(table),
			Key:                                 key("a"),
			UpdateExpression:                    aws.String("REMOVE waiter"),
			ConditionExpression:                 aws.String("seq = :seq"),
			ExpressionAttributeValues:           map[string]av{":seq": n("99")},
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("UpdateItem: %v, want *types.ConditionalCheckFailedException", err)
		}
		if got, ok := ccf.Item["waiter"].(*avS); !ok || got.Value != "task-token" {
			t.Errorf("Item %v: want the old item", ccf.Item)
		}
		// On an item that does not exist, the exception has no item.
		_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(table),
			Key:                                 key("missing"),
			UpdateExpression:                    aws.String("SET x = :x"),
			ConditionExpression:                 aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues:           map[string]av{":x": s("1")},
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) || len(ccf.Item) != 0 {
			t.Errorf("UpdateItem on a missing item: %v (Item %v), want the exception without item", err, ccf)
		}
		// PutItem and DeleteItem too.
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table), Item: key("a"),
			ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) || ccf.Item["waiter"] == nil {
			t.Errorf("PutItem: %v, want the exception with the old item", err)
		}
		_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(table), Key: key("a"),
			ConditionExpression:                 aws.String("attribute_not_exists(waiter)"),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) || ccf.Item["waiter"] == nil {
			t.Errorf("DeleteItem: %v, want the exception with the old item", err)
		}
	})

	t.Run("b/TransactionCanceledException carries per-item reasons", func(t *testing.T) {
		put(map[string]av{"pk": s("b"), "state": s("waiting")})
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: aws.String(table), Item: key("b-msg-1"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Update: &ddbtypes.Update{
				TableName: aws.String(table), Key: key("b"),
				UpdateExpression:                    aws.String("SET #st = :new"),
				ConditionExpression:                 aws.String("#st = :idle"),
				ExpressionAttributeNames:            map[string]string{"#st": "state"},
				ExpressionAttributeValues:           map[string]av{":new": s("x"), ":idle": s("idle")},
				ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
			}},
		}})
		var tce *ddbtypes.TransactionCanceledException
		if !errors.As(err, &tce) {
			t.Fatalf("TransactWriteItems: %v, want *types.TransactionCanceledException", err)
		}
		if len(tce.CancellationReasons) != 2 {
			t.Fatalf("CancellationReasons %+v, want 2", tce.CancellationReasons)
		}
		if got := aws.ToString(tce.CancellationReasons[0].Code); got != "None" {
			t.Errorf("reason 0 code %q, want None", got)
		}
		r1 := tce.CancellationReasons[1]
		if got := aws.ToString(r1.Code); got != "ConditionalCheckFailed" {
			t.Errorf("reason 1 code %q, want ConditionalCheckFailed", got)
		}
		if st, ok := r1.Item["state"].(*avS); !ok || st.Value != "waiting" {
			t.Errorf("reason 1 item %v, want the old item (ReturnValuesOnConditionCheckFailure)", r1.Item)
		}
		// Nothing of a cancelled transaction is written.
		got, _ := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("b-msg-1"), ConsistentRead: aws.Bool(true)})
		if len(got.Item) != 0 {
			t.Errorf("cancelled transaction wrote %v", got.Item)
		}
		// Two operations on one item: ValidationException, as on AWS.
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{ConditionCheck: &ddbtypes.ConditionCheck{TableName: aws.String(table), Key: key("b"), ConditionExpression: aws.String("attribute_exists(pk)")}},
			{Update: &ddbtypes.Update{TableName: aws.String(table), Key: key("b"), UpdateExpression: aws.String("SET x = :x"),
				ExpressionAttributeValues: map[string]av{":x": s("1")}}},
		}})
		if errorCode(err) != "ValidationException" {
			t.Errorf("two operations on one item: %v, want ValidationException", err)
		}
		// ClientRequestToken is not idempotent on moto: a retried transaction is
		// evaluated again (AWS answers the first result for 10 minutes).
		txn := &dynamodb.TransactWriteItemsInput{
			ClientRequestToken: aws.String(fmt.Sprint(time.Now().UnixNano())),
			TransactItems: []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{
				TableName: aws.String(table), Item: key("b-msg-2"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}}},
		}
		if _, err := db.TransactWriteItems(ctx, txn); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TransactWriteItems(ctx, txn); !errors.As(err, &tce) {
			t.Errorf("same ClientRequestToken again: %v, want TransactionCanceledException (moto ignores the token)", err)
		}
	})

	t.Run("c/update expressions", func(t *testing.T) {
		put(map[string]av{
			"pk":  s("c"),
			"lst": &avL{Value: []av{s("x"), s("y"), s("z")}},
			"m":   &avM{Value: map[string]av{"k1": s("1"), "k2": s("2")}},
			"seq": n("3"), "dlv": n("3"),
		})
		for _, tc := range []struct {
			update, cond string
			names        map[string]string
			values       map[string]av
			want         string // JSON of the checked attribute after the update
			attr         string
			fails        bool // ConditionalCheckFailed expected
		}{
			{update: "REMOVE lst[1]", attr: "lst", want: `["x","z"]`},
			{update: "REMOVE m.k1", attr: "m", want: `{"k2":"2"}`},
			{update: "REMOVE m.#k", names: map[string]string{"#k": "k2"}, attr: "m", want: `{}`},
			{update: "SET c = if_not_exists(c, :zero) + :one", values: map[string]av{":zero": n("0"), ":one": n("1")}, attr: "c", want: `1`},
			{update: "SET c = if_not_exists(c, :zero) + :one", values: map[string]av{":zero": n("0"), ":one": n("1")}, attr: "c", want: `2`},
			{update: "SET lst = list_append(lst, :l)", values: map[string]av{":l": &avL{Value: []av{s("w")}}}, attr: "lst", want: `["x","z","w"]`},
			{update: "SET nl = list_append(if_not_exists(nl, :empty), :l)",
				values: map[string]av{":empty": &avL{}, ":l": &avL{Value: []av{s("w")}}}, attr: "nl", want: `["w"]`},
			{update: "SET inflight = :m", values: map[string]av{":m": &avM{Value: map[string]av{"id": s("p1"), "payload": s("{}")}}},
				attr: "inflight", want: `{"id":"p1","payload":"{}"}`},
			{update: "SET inflight.#o = :v", names: map[string]string{"#o": "other"}, values: map[string]av{":v": s("q")},
				attr: "inflight", want: `{"id":"p1","other":"q","payload":"{}"}`},
			{update: "REMOVE inflight", cond: "inflight.id = :p", values: map[string]av{":p": s("p1")}, attr: "inflight", want: `null`},
			{update: "SET #dlv = #dlv + :one", cond: "#seq = #dlv", names: map[string]string{"#seq": "seq", "#dlv": "dlv"},
				values: map[string]av{":one": n("1")}, attr: "dlv", want: `4`},
			{update: "SET #dlv = #dlv + :one", cond: "#seq = #dlv", names: map[string]string{"#seq": "seq", "#dlv": "dlv"},
				values: map[string]av{":one": n("1")}, fails: true},
			{update: "SET #seq = #seq + :one", cond: "#seq < #dlv", names: map[string]string{"#seq": "seq", "#dlv": "dlv"},
				values: map[string]av{":one": n("1")}, attr: "seq", want: `4`},
			{update: "SET w = :w", cond: "size(lst) > :zero AND attribute_not_exists(w)", values: map[string]av{":w": s("t"), ":zero": n("0")},
				attr: "w", want: `"t"`},
			{update: "ADD cnt :one SET v = :v REMOVE lst[0], m", values: map[string]av{":one": n("1"), ":v": s("v")}, attr: "lst", want: `["z","w"]`},
		} {
			in := &dynamodb.UpdateItemInput{
				TableName: aws.String(table), Key: key("c"),
				UpdateExpression:          aws.String(tc.update),
				ExpressionAttributeNames:  tc.names,
				ExpressionAttributeValues: tc.values,
				ReturnValues:              ddbtypes.ReturnValueAllNew,
			}
			if tc.cond != "" {
				in.ConditionExpression = aws.String(tc.cond)
			}
			out, err := db.UpdateItem(ctx, in)
			if tc.fails {
				var ccf *ddbtypes.ConditionalCheckFailedException
				if !errors.As(err, &ccf) {
					t.Errorf("%q if %q: %v, want ConditionalCheckFailedException", tc.update, tc.cond, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%q if %q: %v", tc.update, tc.cond, err)
				continue
			}
			if got := plainJSON(out.Attributes[tc.attr]); got != tc.want {
				t.Errorf("%q if %q: %s = %s, want %s", tc.update, tc.cond, tc.attr, got, tc.want)
			}
		}
	})

	t.Run("c/undefined placeholders", func(t *testing.T) {
		// In an UpdateExpression: ValidationException, as on AWS.
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: key("c"), UpdateExpression: aws.String("SET a = :nope"),
		}, noRetry)
		if errorCode(err) != "ValidationException" {
			t.Errorf("undefined :value in UpdateExpression: %v, want ValidationException", err)
		}
		// In a ConditionExpression, or an undefined #name anywhere: moto fails with
		// HTTP 500 (a KeyError), which the SDK retries. AWS: ValidationException.
		for _, in := range []*dynamodb.UpdateItemInput{
			{TableName: aws.String(table), Key: key("c"), UpdateExpression: aws.String("SET a = :a"),
				ConditionExpression: aws.String("b = :nope"), ExpressionAttributeValues: map[string]av{":a": s("1")}},
			{TableName: aws.String(table), Key: key("c"), UpdateExpression: aws.String("SET #nope = :a"),
				ExpressionAttributeValues: map[string]av{":a": s("1")}},
		} {
			if _, err := db.UpdateItem(ctx, in, noRetry); httpStatus(err) != 500 {
				t.Errorf("%q if %q: %v, want HTTP 500 from moto", aws.ToString(in.UpdateExpression), aws.ToString(in.ConditionExpression), err)
			}
		}
	})

	t.Run("h/sparse GSI query", func(t *testing.T) {
		put(map[string]av{"pk": s("h1"), "gpk": s("exec-h")})
		put(map[string]av{"pk": s("h2"), "gpk": s("exec-h")})
		put(map[string]av{"pk": s("h3")}) // not in the index
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(table), IndexName: aws.String("gsi"),
			KeyConditionExpression:    aws.String("gpk = :e"),
			ExpressionAttributeValues: map[string]av{":e": s("exec-h")},
		})
		if err != nil || out.Count != 2 {
			t.Fatalf("Query gsi: %v, %v; want the 2 items that have gpk", out, err)
		}
		scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: aws.String("gsi")})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range scan.Items {
			if it["gpk"] == nil {
				t.Errorf("Scan gsi returned %v, which has no gpk", it)
			}
		}
		_, err = db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(table), IndexName: aws.String("gsi"), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("gpk = :e"),
			ExpressionAttributeValues: map[string]av{":e": s("exec-h")},
		})
		if errorCode(err) != "ValidationException" {
			t.Errorf("consistent read on a GSI: %v, want ValidationException", err)
		}
	})

	t.Run("item size limit", func(t *testing.T) {
		// moto refuses items over 405,000 bytes (its estimate); AWS's limit is
		// 409,600 bytes (400 KB) including attribute names.
		put(map[string]av{"pk": s("big-ok"), "b": s(strings.Repeat("x", 400_000))})
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]av{"pk": s("big"), "b": s(strings.Repeat("x", 406_000))}})
		if errorCode(err) != "ValidationException" {
			t.Errorf("406,000-byte item: %v, want ValidationException", err)
		}
	})
}

// plainJSON renders an attribute value as plain JSON (numbers as numbers).
func plainJSON(v av) string {
	var conv func(av) any
	conv = func(v av) any {
		switch v := v.(type) {
		case *avS:
			return v.Value
		case *avN:
			return json.Number(v.Value)
		case *avL:
			out := make([]any, len(v.Value))
			for i, e := range v.Value {
				out[i] = conv(e)
			}
			return out
		case *avM:
			out := make(map[string]any, len(v.Value))
			for k, e := range v.Value {
				out[k] = conv(e)
			}
			return out
		case nil:
			return nil
		default:
			return fmt.Sprintf("%T", v)
		}
	}
	b, _ := json.Marshal(conv(v))
	return string(b)
}

// tokenFunction registers a function, under a unique name, that sends the task
// token of each invocation to the returned channel.
func tokenFunction(t *testing.T) (string, <-chan string) {
	t.Helper()
	name := stacktest.UniqueName(t, "tok")
	tokens := make(chan string, 16)
	stacktest.Function(t, name, devstack.NewHandler(func(ctx context.Context, ev echoTaskEvent) (string, error) {
		select { // never block the bridge for good on a test that stopped reading
		case tokens <- ev.TaskToken:
			return "", nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(receiveWait):
			return "", fmt.Errorf("%s: the test took no task token for %s", name, receiveWait)
		}
	}))
	return name, tokens
}

// receiveWait bounds the wait for a function invocation: generous, as moto
// on a loaded machine is slow to invoke.
const receiveWait = 30 * time.Second

func awaitState(name, function, extra, next string) string {
	end := `"End": true`
	if next != "" {
		end = `"Next": "` + next + `"`
	}
	return fmt.Sprintf(`%q: {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", %s
		"Parameters": {"FunctionName": %q, "Payload": {"taskToken.$": "$$.Task.Token", "input.$": "$"}},
		"ResultPath": "$.%s", %s}`, name, extra, function, name, end)
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(receiveWait):
		t.Fatalf("the function was not invoked within %s", receiveWait)
		return ""
	}
}

func TestMotoStepFunctions(t *testing.T) {
	stk, _ := stacktest.Bridge(t)
	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	client := sfn.NewFromConfig(cfg)
	ctx := context.Background()
	success := func(token, output string) error {
		_, err := client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(output)})
		return err
	}
	failure := func(token, name, cause string) error {
		_, err := client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String(name), Cause: aws.String(cause)})
		return err
	}
	heartbeat := func(token string) error {
		_, err := client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)})
		return err
	}
	describe := func(exec string) *sfn.DescribeExecutionOutput {
		t.Helper()
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("d/SendTask* on a completed task token", func(t *testing.T) {
		fn, tokens := tokenFunction(t)
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A1", "States": {`+
			awaitState("A1", fn, "", "A2")+`,`+awaitState("A2", fn, "", "")+`}}`)
		exec := stacktest.StartExecution(t, client, m, `{}`)
		tok1 := receive(t, tokens)
		if err := success(tok1, `1`); err != nil {
			t.Fatal(err)
		}
		tok2 := receive(t, tokens)
		// While the execution runs on: the used token is accepted again, silently,
		// and the output dropped. AWS answers TaskTimedOut ("Provided task does not
		// exist anymore").
		if err := success(tok1, `"again"`); err != nil {
			t.Errorf("SendTaskSuccess on a used token while the execution runs: %v, want moto's silent nil", err)
		}
		if err := failure(tok1, "Again", ""); err != nil {
			t.Errorf("SendTaskFailure on a used token while the execution runs: %v, want moto's silent nil", err)
		}
		if err := success(tok2, `2`); err != nil {
			t.Fatal(err)
		}
		out := stacktest.WaitExecution(t, client, exec, 10*time.Second)
		if out.Status != sfntypes.ExecutionStatusSucceeded || !jsonEqual(t, aws.ToString(out.Output), `{"A1": 1, "A2": 2}`) {
			t.Fatalf("%s %s, want SUCCEEDED with the first outputs", out.Status, aws.ToString(out.Output))
		}
		// Once the execution has ended: InvalidToken for SendTaskSuccess and
		// SendTaskHeartbeat, but SendTaskFailure is still accepted silently.
		var invalid *sfntypes.InvalidToken
		if err := success(tok2, `{}`); !errors.As(err, &invalid) {
			t.Errorf("SendTaskSuccess after the end: %v, want *types.InvalidToken", err)
		}
		if err := heartbeat(tok2); !errors.As(err, &invalid) {
			t.Errorf("SendTaskHeartbeat after the end: %v, want *types.InvalidToken", err)
		}
		if err := failure(tok2, "Late", ""); err != nil {
			t.Errorf("SendTaskFailure after the end: %v, want moto's silent nil", err)
		}
		for _, garbage := range []string{"garbage", tok2 + "x"} {
			if err := success(garbage, `{}`); !errors.As(err, &invalid) {
				t.Errorf("SendTaskSuccess(%q): %v, want *types.InvalidToken", garbage, err)
			}
		}
	})

	// moto 5.2.5 drops SendTaskFailure's cause; scripts/moto_server.py
	// patches its handler so the stack keeps it, as AWS does (issue 13:
	// a rejection's cause reaches the state machine).
	t.Run("d/SendTaskFailure is caught by its error name, with its cause", func(t *testing.T) {
		fn, tokens := tokenFunction(t)
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {
			"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
			  "Parameters": {"FunctionName": "`+fn+`", "Payload": {"taskToken.$": "$$.Task.Token"}},
			  "Catch": [{"ErrorEquals": ["HookConflictError"], "ResultPath": "$.err", "Next": "Caught"}], "End": true},
			"Caught": {"Type": "Pass", "End": true}}}`)
		exec := stacktest.StartExecution(t, client, m, `{}`)
		if err := failure(receive(t, tokens), "HookConflictError", `{"execution":"other"}`); err != nil {
			t.Fatal(err)
		}
		out := stacktest.WaitExecution(t, client, exec, 10*time.Second)
		if out.Status != sfntypes.ExecutionStatusSucceeded || !jsonEqual(t, aws.ToString(out.Output), `{"err": {"Error": "HookConflictError", "Cause": "{\"execution\":\"other\"}"}}`) {
			t.Errorf("%s %s, want the Catch path with the cause", out.Status, aws.ToString(out.Output))
		}
		// Uncaught: the execution fails with that error and cause.
		exec = stacktest.StartExecution(t, client, m, `{}`)
		if err := failure(receive(t, tokens), "Other", "why"); err != nil {
			t.Fatal(err)
		}
		out = stacktest.WaitExecution(t, client, exec, 10*time.Second)
		if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "Other" || aws.ToString(out.Cause) != "why" {
			t.Errorf("%s error %q cause %q, want FAILED Other, cause why", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})

	// moto 5.2.5 waits for a waitForTaskToken task's token only once the
	// Lambda invocation returned, and fails the task (Lambda.Unknown) when
	// the invocation errs even if the token had already completed it: an
	// await that sent a stored payload to its own task and then crashed
	// lost the payload and was retried. On AWS the token's answer closes
	// the task; scripts/moto_server.py patches moto to keep it.
	t.Run("d/a task answered by its token outlives its invocation's error", func(t *testing.T) {
		type event struct {
			TaskToken string `json:"taskToken"`
			Input     struct {
				Mode string `json:"mode"`
			} `json:"input"`
		}
		name := stacktest.UniqueName(t, "answer-then-fail")
		stacktest.Function(t, name, devstack.NewHandler(func(ctx context.Context, ev event) (string, error) {
			var err error
			switch ev.Input.Mode {
			case "success":
				err = success(ev.TaskToken, `"sent"`)
			case "failure":
				err = failure(ev.TaskToken, "SentError", "sent cause")
			}
			if err != nil {
				return "", fmt.Errorf("answer the task: %w", err)
			}
			return "", errors.New("the invocation fails after answering")
		}))
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {`+awaitState("A", name, "", "")+`}}`)
		for _, tc := range []struct{ mode, status, output, error string }{
			{"success", "SUCCEEDED", `{"mode": "success", "A": "sent"}`, ""},
			{"failure", "FAILED", "", "SentError"},
			{"none", "FAILED", "", "errorString"}, // unanswered: the invocation's error (its Go type) fails the task
		} {
			exec := stacktest.StartExecution(t, client, m, `{"mode": "`+tc.mode+`"}`)
			out := stacktest.WaitExecution(t, client, exec, 20*time.Second)
			switch {
			case string(out.Status) != tc.status:
				t.Errorf("%s: %s (error %q), want %s", tc.mode, out.Status, aws.ToString(out.Error), tc.status)
			case tc.output != "" && !jsonEqual(t, aws.ToString(out.Output), tc.output):
				t.Errorf("%s: output %s, want %s", tc.mode, aws.ToString(out.Output), tc.output)
			case tc.error != "" && aws.ToString(out.Error) != tc.error:
				t.Errorf("%s: error %q (cause %q), want %q", tc.mode, aws.ToString(out.Error), aws.ToString(out.Cause), tc.error)
			}
		}
	})

	t.Run("d/StopExecution of an execution waiting for a token", func(t *testing.T) {
		// moto 5.2.5 ended such an execution only when its task ended: it
		// stayed RUNNING and its token was accepted, so on make dev a resume
		// after StopExecution answered 200 where AWS answers 404.
		// scripts/moto_server.py makes it AWS's: ABORTED at once (history
		// included), and the task's token answers TaskTimedOut. Stopped
		// after the task's Lambda invocation returned, and while it runs.
		name := stacktest.UniqueName(t, "stop")
		tokens, release := make(chan string, 1), make(chan struct{})
		stacktest.Function(t, name, devstack.NewHandler(func(ctx context.Context, ev struct {
			TaskToken string `json:"taskToken"`
			Hold      bool   `json:"hold"`
		}) (string, error) {
			tokens <- ev.TaskToken
			if ev.Hold {
				select {
				case <-release:
				case <-ctx.Done():
				case <-time.After(receiveWait):
				}
			}
			return "", nil
		}))
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {"A": {"Type": "Task",
			"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
			"Parameters": {"FunctionName": "`+name+`", "Payload": {"taskToken.$": "$$.Task.Token", "hold.$": "$.hold"}}, "End": true}}}`)
		newest := func(exec string) sfntypes.HistoryEventType {
			t.Helper()
			hist, err := client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), MaxResults: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var last sfntypes.HistoryEvent
			for _, ev := range hist.Events {
				if ev.Id > last.Id {
					last = ev
				}
			}
			return last.Type
		}
		for _, hold := range []bool{false, true} {
			exec := stacktest.StartExecution(t, client, m, fmt.Sprintf(`{"hold": %v}`, hold))
			tok := receive(t, tokens)
			if !hold {
				stacktest.WaitTaskSubmitted(t, client, exec, 10*time.Second)
			}
			if _, err := client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
				t.Fatal(err)
			}
			if st := describe(exec).Status; st != sfntypes.ExecutionStatusAborted {
				t.Errorf("invocation running %v: right after StopExecution: %s, want ABORTED", hold, st)
			}
			if ev := newest(exec); ev != sfntypes.HistoryEventTypeExecutionAborted {
				t.Errorf("invocation running %v: the newest history event right after StopExecution: %s, want ExecutionAborted", hold, ev)
			}
			var timedOut *sfntypes.TaskTimedOut
			if err := success(tok, `{}`); !errors.As(err, &timedOut) {
				t.Errorf("invocation running %v: SendTaskSuccess after StopExecution: %v, want *types.TaskTimedOut", hold, err)
			}
			if err := failure(tok, "Late", ""); !errors.As(err, &timedOut) {
				t.Errorf("invocation running %v: SendTaskFailure after StopExecution: %v, want *types.TaskTimedOut", hold, err)
			}
			if err := heartbeat(tok); !errors.As(err, &timedOut) {
				t.Errorf("invocation running %v: SendTaskHeartbeat after StopExecution: %v, want *types.TaskTimedOut", hold, err)
			}
			if hold {
				release <- struct{}{}
			}
			time.Sleep(200 * time.Millisecond) // the invocation's answer, if any, changes nothing
			if st := describe(exec).Status; st != sfntypes.ExecutionStatusAborted {
				t.Errorf("invocation running %v: then %s, want ABORTED still", hold, st)
			}
			if ev := newest(exec); ev != sfntypes.HistoryEventTypeExecutionAborted {
				t.Errorf("invocation running %v: then the newest history event %s, want ExecutionAborted", hold, ev)
			}
		}
	})

	// moto 5.2.5 answers SendTaskHeartbeat InvalidToken for a live task
	// without HeartbeatSeconds, and success for a task its token already
	// completed while the execution runs on; scripts/moto_server.py makes
	// it answer as AWS: success for any open task, closed for a closed one
	// (TaskDoesNotExist: moto's answer for a closed task in a running
	// execution; AWS says TaskTimedOut; pkg/hooks takes both for closed). An
	// await checks its own task so before it supersedes another.
	t.Run("d/SendTaskHeartbeat of an open task, with or without HeartbeatSeconds", func(t *testing.T) {
		fn, tokens := tokenFunction(t)
		var notExist *sfntypes.TaskDoesNotExist
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A1", "States": {`+
			awaitState("A1", fn, "", "A2")+`,`+awaitState("A2", fn, "", "")+`}}`)
		exec := stacktest.StartExecution(t, client, m, `{}`)
		tok := receive(t, tokens)
		if err := heartbeat(tok); err != nil {
			t.Errorf("heartbeat on a live task without HeartbeatSeconds: %v, want nil (as AWS)", err)
		}
		if err := success(tok, `1`); err != nil {
			t.Fatal(err)
		}
		tok2 := receive(t, tokens)
		if err := heartbeat(tok); !errors.As(err, &notExist) {
			t.Errorf("heartbeat on a completed task while its execution runs on: %v, want *types.TaskDoesNotExist (closed; AWS: TaskTimedOut)", err)
		}
		if err := heartbeat(tok2); err != nil {
			t.Errorf("heartbeat on the next live task: %v, want nil", err)
		}
		_ = success(tok2, `2`)
		stacktest.WaitExecution(t, client, exec, 10*time.Second)

		// Heartbeats hb/4 apart, for longer than hb, keep the task alive.
		// What moto sees between two heartbeats is at most the time from
		// sending one to the answer of the next (from starting the
		// execution, for the first): a run where load stretched that to hb
		// or more proves nothing either way, and is tried again.
		const hb = 2 * time.Second
		m = stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {`+awaitState("A", fn, fmt.Sprintf(`"HeartbeatSeconds": %d,`, hb/time.Second), "")+`}}`)
		run := func() (conclusive bool) {
			t.Helper()
			sent := time.Now()
			exec := stacktest.StartExecution(t, client, m, `{}`)
			tok := receive(t, tokens)
			// excused reports whether moto may have seen no heartbeat for
			// hb before the call that just answered: then a failure proves
			// nothing.
			excused := func(what string) bool {
				t.Helper()
				if gap := time.Since(sent); gap >= hb {
					t.Logf("%s answered %v after the previous heartbeat was sent, not under HeartbeatSeconds %v: inconclusive", what, gap.Round(time.Millisecond), hb)
					return true
				}
				return false
			}
			for begin := time.Now(); time.Since(begin) < hb+hb/2; {
				time.Sleep(hb / 4)
				at := time.Now()
				if err := heartbeat(tok); err != nil {
					if excused("heartbeat") {
						return false
					}
					t.Fatalf("heartbeat with HeartbeatSeconds: %v", err)
				}
				sent = at
			}
			if st := describe(exec).Status; st != sfntypes.ExecutionStatusRunning {
				if excused("DescribeExecution") {
					return false
				}
				t.Errorf("after %v of heartbeats every %v with HeartbeatSeconds %v: %s, want RUNNING", hb+hb/2, hb/4, hb, st)
			}
			if err := success(tok, `"hb"`); err != nil {
				if excused("SendTaskSuccess") {
					return false
				}
				t.Fatal(err)
			}
			if out := stacktest.WaitExecution(t, client, exec, 10*time.Second); out.Status != sfntypes.ExecutionStatusSucceeded {
				t.Errorf("%s, want SUCCEEDED", out.Status)
			}
			return true
		}
		for attempt := 1; !run(); attempt++ {
			if attempt == 3 {
				t.Fatalf("three runs too loaded to tell: a heartbeat answered %v or more after the previous one was sent", hb)
			}
		}
	})

	t.Run("g/TimeoutSeconds times out a waitForTaskToken task", func(t *testing.T) {
		fn, tokens := tokenFunction(t)
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {`+awaitState("A", fn, `"TimeoutSeconds": 1,`, "")+`}}`)
		start := time.Now()
		exec := stacktest.StartExecution(t, client, m, `{}`)
		tok := receive(t, tokens)
		out := stacktest.WaitExecution(t, client, exec, 10*time.Second)
		took := time.Since(start)
		// Nobody completes the task: FAILED States.Timeout is the timeout's
		// doing (without it the execution would run on), and it cannot come
		// before TimeoutSeconds. No upper bound: load delays it.
		if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Timeout" {
			t.Fatalf("%s error %q, want FAILED States.Timeout", out.Status, aws.ToString(out.Error))
		}
		if took < time.Second {
			t.Errorf("timed out after %v, before TimeoutSeconds 1", took)
		}
		t.Logf("TimeoutSeconds 1: FAILED States.Timeout after %v", took)
		var invalid *sfntypes.InvalidToken
		if err := success(tok, `{}`); !errors.As(err, &invalid) {
			t.Errorf("SendTaskSuccess after the timeout: %v, want *types.InvalidToken (AWS: TaskTimedOut)", err)
		}
		// States.Timeout can be caught; the timed-out token is then accepted
		// silently while the execution runs on.
		m = stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {
			"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 1,
			  "Parameters": {"FunctionName": "`+fn+`", "Payload": {"taskToken.$": "$$.Task.Token"}},
			  "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.err", "Next": "B"}], "End": true},
			`+awaitState("B", fn, "", "")+`}}`)
		exec = stacktest.StartExecution(t, client, m, `{}`)
		tokA := receive(t, tokens)
		tokB := receive(t, tokens)
		if err := success(tokA, `"late"`); err != nil {
			t.Errorf("SendTaskSuccess on the timed-out token while the execution runs: %v, want moto's silent nil", err)
		}
		if err := success(tokB, `"b"`); err != nil {
			t.Fatal(err)
		}
		out = stacktest.WaitExecution(t, client, exec, 10*time.Second)
		if !jsonEqual(t, aws.ToString(out.Output), `{"err": {"Error": "States.Timeout", "Cause": ""}, "B": "b"}`) {
			t.Errorf("output %s", aws.ToString(out.Output))
		}
	})

	t.Run("e/intrinsics and the context object", func(t *testing.T) {
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
			"token.$": "States.Format('hook-{}-{}', $.id, $$.Execution.Name)",
			"execution.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "machine.$": "$$.StateMachine.Id",
			"state.$": "$$.State.Name", "input.$": "$$.Execution.Input", "uuid.$": "States.UUID()",
			"json.$": "States.JsonToString($.o)", "obj.$": "States.StringToJson($.s)", "arr.$": "States.Array($.id, 2)",
			"len.$": "States.ArrayLength($.l)", "hash.$": "States.Hash($.id, 'SHA-256')", "b64.$": "States.Base64Encode($.id)"},
			"ResultPath": "$.r", "End": true}}}`)
		exec := stacktest.StartExecution(t, client, m, `{"id": "42", "o": {"a": 1}, "s": "{\"b\":2}", "l": [1, 2, 3]}`)
		out := stacktest.WaitExecution(t, client, exec, 10*time.Second)
		var got struct {
			R struct {
				Token, Execution, Name, Machine, State, UUID, JSON, Hash, B64 string
				Input                                                         map[string]any
				Obj                                                           map[string]any
				Arr                                                           []any
				Len                                                           int
			} `json:"r"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
			t.Fatalf("%s: %v", aws.ToString(out.Output), err)
		}
		r := got.R
		name := exec[strings.LastIndex(exec, ":")+1:]
		for _, c := range []struct{ what, got, want string }{
			{"States.Format", r.Token, "hook-42-" + name},
			{"$$.Execution.Id", r.Execution, exec},
			{"$$.Execution.Name", r.Name, name},
			{"$$.StateMachine.Id", r.Machine, m},
			{"$$.State.Name", r.State, "P"},
			{"States.JsonToString", r.JSON, `{"a":1}`},
			{"States.Hash", r.Hash, "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049"},
			{"States.Base64Encode", r.B64, "NDI="},
		} {
			if c.got != c.want {
				t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
			}
		}
		if len(r.UUID) != 36 || r.Obj["b"] != float64(2) || len(r.Arr) != 2 || r.Len != 3 || r.Input["id"] != "42" {
			t.Errorf("UUID/StringToJson/Array/ArrayLength/Execution.Input: %s", aws.ToString(out.Output))
		}
	})

	t.Run("e/$$.Execution.StartTime in an execution's output breaks DescribeExecution", func(t *testing.T) {
		// moto keeps it as a Python datetime: DescribeExecution answers HTTP 500 once
		// the output holds it. In a Lambda payload it arrives as an ISO 8601 string.
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "P", "States": {"P": {"Type": "Pass",
			"Parameters": {"start.$": "$$.Execution.StartTime"}, "End": true}}}`)
		exec := stacktest.StartExecution(t, client, m, `{}`)
		// Until the Pass state has run, the execution describes as RUNNING.
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)},
				func(o *sfn.Options) { o.RetryMaxAttempts = 1 })
			if err == nil && out.Status == sfntypes.ExecutionStatusRunning && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if httpStatus(err) != 500 {
				status := sfntypes.ExecutionStatus("-")
				if out != nil {
					status = out.Status
				}
				t.Errorf("DescribeExecution: %v, status %s; want moto's HTTP 500 once the Pass state ran", err, status)
			}
			break
		}
	})

	t.Run("e/ASL", func(t *testing.T) {
		stacktest.Function(t, "ident", devstack.NewHandler(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			return in, nil
		}))
		var failures atomic.Int32
		stacktest.Function(t, "fails-once", devstack.NewHandler(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			if failures.Add(1) == 1 {
				return nil, &HookConflictError{Execution: "x"}
			}
			return json.RawMessage(`"ok"`), nil
		}))
		stacktest.Function(t, "callback-fails", devstack.NewHandler(func(context.Context, json.RawMessage) (string, error) {
			return "", &HookConflictError{Execution: "cb"}
		}))
		db := dynamodb.NewFromConfig(cfg)
		table := createTable(t, db, false)

		for _, tc := range []struct {
			name, asl, input string
			status           sfntypes.ExecutionStatus
			output           string // JSON, compared semantically; or error name when FAILED
		}{
			{"Choice", `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
				{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"},
				{"And": [{"Variable": "$.s", "IsPresent": true}, {"Variable": "$.s", "StringEquals": "x"}], "Next": "X"}],
				"Default": "Small"},
				"Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.r", "End": true},
				"X": {"Type": "Pass", "Result": "x", "ResultPath": "$.r", "End": true},
				"Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.r", "End": true}}}`,
				`{"n": 0, "s": "x"}`, sfntypes.ExecutionStatusSucceeded, `{"n": 0, "s": "x", "r": "x"}`},
			{"Map with ItemSelector and ItemProcessor", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
				"ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
				"ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "T", "States": {"T": {"Type": "Task",
				  "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "ident", "Payload.$": "$"},
				  "OutputPath": "$.Payload", "End": true}}},
				"ResultPath": "$.out", "End": true}}}`, `{"items": ["a", "b"]}`, sfntypes.ExecutionStatusSucceeded,
				`{"items": ["a", "b"], "out": [{"v": "a", "i": 0}, {"v": "b", "i": 1}]}`},
			{"Map with Iterator and Parameters", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
				"Parameters": {"v.$": "$$.Map.Item.Value"}, "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
				"End": true}}}`, `{"items": [1, 2]}`, sfntypes.ExecutionStatusSucceeded, `[{"v": 1}, {"v": 2}]`},
			{"Parallel", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
				{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
				{"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": 2, "End": true}}}], "End": true}}}`,
				`{}`, sfntypes.ExecutionStatusSucceeded, `[1, 2]`},
			{"lambda:invoke result, ResultSelector, ResultPath", `{"StartAt": "T", "States": {"T": {"Type": "Task",
				"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "ident", "Payload.$": "$"},
				"ResultSelector": {"p.$": "$.Payload", "code.$": "$.StatusCode", "version.$": "$.ExecutedVersion"},
				"ResultPath": "$.res", "End": true}}}`, `{"x": 1}`, sfntypes.ExecutionStatusSucceeded,
				`{"x": 1, "res": {"p": {"x": 1}, "code": 200, "version": "$LATEST"}}`},
			// moto's lambda:invoke result has only StatusCode, ExecutedVersion and
			// Payload; AWS adds SdkHttpMetadata and SdkResponseMetadata.
			{"lambda:invoke result shape", `{"StartAt": "T", "States": {"T": {"Type": "Task",
				"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "ident", "Payload.$": "$"}, "End": true}}}`,
				`{"x": 1}`, sfntypes.ExecutionStatusSucceeded, `{"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": {"x": 1}}`},
			{"Lambda function ARN as Resource", `{"StartAt": "T", "States": {"T": {"Type": "Task",
				"Resource": "arn:aws:lambda:us-east-1:123456789012:function:ident", "End": true}}}`, `{"x": 1}`,
				sfntypes.ExecutionStatusSucceeded, `{"x": 1}`},
			{"Retry on errorType", `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": {"FunctionName": "fails-once", "Payload.$": "$"}, "ResultSelector": {"p.$": "$.Payload"},
				"Retry": [{"ErrorEquals": ["HookConflictError"], "IntervalSeconds": 1, "MaxAttempts": 1}], "End": true}}}`,
				`{}`, sfntypes.ExecutionStatusSucceeded, `{"p": "ok"}`},
			{"waitForTaskToken function error is caught", `{"StartAt": "T", "States": {"T": {"Type": "Task",
				"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
				"Parameters": {"FunctionName": "callback-fails", "Payload": {"t.$": "$$.Task.Token"}},
				"Catch": [{"ErrorEquals": ["HookConflictError"], "ResultPath": "$.err", "Next": "C"}], "End": true},
				"C": {"Type": "Pass", "Parameters": {"error.$": "$.err.Error"}, "End": true}}}`,
				`{}`, sfntypes.ExecutionStatusSucceeded, `{"error": "HookConflictError"}`},
			{"unknown function", `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": {"FunctionName": "no-such-function", "Payload.$": "$"}, "End": true}}}`,
				`{}`, sfntypes.ExecutionStatusFailed, "Lambda.ResourceNotFoundException"},
			{"Wait", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}`,
				`{"w": 1}`, sfntypes.ExecutionStatusSucceeded, `{"w": 1}`},
			{"Fail state", `{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "HookNotFoundError", "Cause": "gone"}}}`,
				`{}`, sfntypes.ExecutionStatusFailed, "HookNotFoundError"},
			// aws-sdk integrations call back through the bridge, to moto.
			{"aws-sdk:dynamodb putItem and getItem", fmt.Sprintf(`{"StartAt": "Put", "States": {
				"Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
				  "Parameters": {"TableName": %q, "Item": {"pk": {"S": "sdk"}, "v": {"S.$": "$.v"}}}, "ResultPath": null, "Next": "Get"},
				"Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
				  "Parameters": {"TableName": %q, "Key": {"pk": {"S": "sdk"}}}, "End": true}}}`, table, table),
				`{"v": "hello"}`, sfntypes.ExecutionStatusSucceeded, `{"Item": {"pk": {"S": "sdk"}, "v": {"S": "hello"}}}`},
			{"dynamodb:updateItem failure name", fmt.Sprintf(`{"StartAt": "U", "States": {"U": {"Type": "Task",
				"Resource": "arn:aws:states:::dynamodb:updateItem", "Parameters": {"TableName": %q, "Key": {"pk": {"S": "sdk"}},
				  "UpdateExpression": "SET w = :w", "ConditionExpression": "attribute_not_exists(pk)",
				  "ExpressionAttributeValues": {":w": {"S": "x"}}},
				"Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}], "End": true},
				"C": {"Type": "Pass", "Parameters": {"error.$": "$.err.Error"}, "End": true}}}`, table), `{}`,
				sfntypes.ExecutionStatusSucceeded, `{"error": "DynamoDB.ConditionalCheckFailedException"}`},
			{"aws-sdk:dynamodb:updateItem failure name", fmt.Sprintf(`{"StartAt": "U", "States": {"U": {"Type": "Task",
				"Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem", "Parameters": {"TableName": %q, "Key": {"pk": {"S": "sdk"}},
				  "UpdateExpression": "SET w = :w", "ConditionExpression": "attribute_not_exists(pk)",
				  "ExpressionAttributeValues": {":w": {"S": "x"}}},
				"Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}], "End": true},
				"C": {"Type": "Pass", "Parameters": {"error.$": "$.err.Error"}, "End": true}}}`, table), `{}`,
				sfntypes.ExecutionStatusSucceeded, `{"error": "DynamoDb.ConditionalCheckFailedException"}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m := stacktest.CreateStateMachine(t, client, tc.asl)
				exec := stacktest.StartExecution(t, client, m, tc.input)
				out := stacktest.WaitExecution(t, client, exec, 30*time.Second)
				if out.Status != tc.status {
					t.Fatalf("%s error %q cause %q, want %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), tc.status)
				}
				if tc.status == sfntypes.ExecutionStatusFailed {
					if got := aws.ToString(out.Error); got != tc.output {
						t.Errorf("error %q, want %q", got, tc.output)
					}
					return
				}
				if !jsonEqual(t, aws.ToString(out.Output), tc.output) {
					t.Errorf("output %s, want %s", aws.ToString(out.Output), tc.output)
				}
			})
		}
	})

	t.Run("f/latency", func(t *testing.T) {
		fn, tokens := tokenFunction(t)
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "A", "States": {`+awaitState("A", fn, "", "")+`}}`)
		pass := stacktest.CreateStateMachine(t, client, `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`)
		var toInvoke, toEnd, passTotal time.Duration
		const rounds = 5
		for range rounds {
			start := time.Now()
			exec := stacktest.StartExecution(t, client, m, `{}`)
			tok := receive(t, tokens)
			toInvoke += time.Since(start)
			sent := time.Now()
			if err := success(tok, `{}`); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := devstack.WaitExecution(ctx, client, exec, 2*time.Millisecond)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			toEnd += time.Since(sent)

			start = time.Now()
			exec = stacktest.StartExecution(t, client, pass, `{}`)
			ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			_, err = devstack.WaitExecution(ctx, client, exec, 2*time.Millisecond)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			passTotal += time.Since(start)
		}
		t.Logf("mean over %d: StartExecution to Lambda invoked %v; SendTaskSuccess to SUCCEEDED seen %v; Pass machine start to SUCCEEDED seen %v",
			rounds, toInvoke/rounds, toEnd/rounds, passTotal/rounds)
		if toInvoke/rounds > 2*time.Second || toEnd/rounds > 2*time.Second || passTotal/rounds > 2*time.Second {
			t.Errorf("moto is much slower than measured when this was written (tens of ms)")
		}
	})

	t.Run("a string output is returned unquoted", func(t *testing.T) {
		// DescribeExecution's output is JSON on AWS ("\"done\""); moto returns a
		// string result as is. End executions with an object.
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": true}}}`)
		out := stacktest.WaitExecution(t, client, stacktest.StartExecution(t, client, m, `{}`), 10*time.Second)
		if got := aws.ToString(out.Output); got != "done" {
			t.Errorf("output %q, want moto's unquoted %q", got, "done")
		}
	})

	t.Run("unnamed executions are named None", func(t *testing.T) {
		m := stacktest.CreateStateMachine(t, client, `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`)
		out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Input: aws.String(`{"a":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(aws.ToString(out.ExecutionArn), ":None") {
			t.Errorf("unnamed execution ARN %s, want moto's :None suffix", aws.ToString(out.ExecutionArn))
		}
		stacktest.WaitExecution(t, client, aws.ToString(out.ExecutionArn), 10*time.Second)
		_, err = client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Input: aws.String(`{"a":1}`)})
		if errorCode(err) != "ExecutionAlreadyExists" {
			t.Errorf("second unnamed execution: %v, want ExecutionAlreadyExists", err)
		}
	})
}
