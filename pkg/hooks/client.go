package hooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// DynamoDBAPI is the part of the DynamoDB client this package uses, with the
// SDK's exact signatures. *dynamodb.Client satisfies it; wrap it to count or
// inject faults.
type DynamoDBAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	// BatchGetItem reads the hook items of a ListHooks page.
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// StepFunctionsAPI is the part of the Step Functions client this package
// uses. *sfn.Client satisfies it.
type StepFunctionsAPI interface {
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	// SendTaskHeartbeat keeps a parked await alive (Heartbeat), and tells
	// an await whether its own task is still open before it supersedes
	// another.
	SendTaskHeartbeat(context.Context, *sfn.SendTaskHeartbeatInput, ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error)
	// DescribeExecution and GetExecutionHistory are called on rare paths
	// only: a token held by another execution (is it still running?), an
	// execution's end event (not redriven since?), and a task that Step
	// Functions says is over (did it get the payload?).
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
}

var (
	_ DynamoDBAPI      = (*dynamodb.Client)(nil)
	_ StepFunctionsAPI = (*sfn.Client)(nil)
)

// Environment variables read by NewFromEnv.
const (
	EnvTableName      = "HOOKS_TABLE"
	EnvWebhookBaseURL = "HOOKS_WEBHOOK_BASE_URL"
)

// Options configure a Client. Zero values take the defaults noted.
type Options struct {
	// TableName is the DynamoDB table (required).
	TableName string
	// WebhookBaseURL is the public base URL of the API; a webhook's URL is
	// WebhookBaseURL + "/webhooks/" + token.
	WebhookBaseURL string

	// DynamoDB and StepFunctions override the clients New builds from the
	// aws.Config (for fault injection and call counting).
	DynamoDB      DynamoDBAPI
	StepFunctions StepFunctionsAPI
	// KMS seals payloads of sealed hooks (GenerateDataKey) and opens them
	// (Decrypt, Client.Open). Default: a KMS client from the aws.Config.
	KMS KMSAPI

	// HookTTL bounds the life of a hook whose execution never disposed it
	// (DynamoDB TTL, the last safety net). Default 400 days: longer than a
	// Standard workflow can run. It counts from the hook's first create or
	// await and is not renewed by later ones; when it passes, DynamoDB
	// deletes the hook with its stored payloads and links, whatever still
	// waits on it. Set it shorter only if no execution awaiting a hook
	// lives that long.
	HookTTL time.Duration
	// IdempotencyTTL is how long an idempotency key is remembered. Default 24h.
	IdempotencyTTL time.Duration
	// RedriveAfter is the age after which an in-flight delivery whose
	// resumer may have died is sent again by the next resume. Default 10s.
	RedriveAfter time.Duration
	// MaxAttempts bounds the retries of a commit (A5) whose transaction is
	// canceled by a concurrent write. Default 25.
	MaxAttempts int
	// ContentionTimeout is how long a resume, create or await keeps trying
	// when each of its writes is overtaken (an await parking between a
	// resume's two calls, or TransactionConflict on a hot hook item), with
	// jittered exponential backoff, before it answers ErrContention (an
	// await also gets HandOffWait on top). Default 10s.
	ContentionTimeout time.Duration
	// HandOffWait is how long an await waits for another await's hand-out
	// of a stored payload to be committed before it settles that hand-out
	// through the execution history (the other await may have died).
	// Default RedriveAfter.
	HandOffWait time.Duration
	// MaxPayloadBytes is the payload limit. Default and maximum 262144
	// (Step Functions' task output limit).
	MaxPayloadBytes int

	// WebhookDeadline is how long ResumeWebhook holds the caller of a manual
	// webhook for the workflow's response when the webhook sets no deadline
	// of its own. Default 25s (API Gateway HTTP API gives up at 30s).
	WebhookDeadline time.Duration
	// WebhookPollInterval is the first pause between two reads of a manual
	// webhook's response; it doubles up to WebhookPollMaxInterval. Defaults
	// 5ms and 100ms.
	WebhookPollInterval    time.Duration
	WebhookPollMaxInterval time.Duration
	// WebhookFastPoll is how long a held caller keeps polling at
	// WebhookPollInterval before it backs off: a workflow usually responds
	// within a Step Functions round trip. Default 300ms (60 reads at the
	// default interval; a 25 s wait then costs about 330 reads).
	WebhookFastPoll time.Duration
	// ResponseTTL is how long a webhook response item is kept (read or
	// not: while it exists a second, different Respond is refused).
	// Default 1h.
	ResponseTTL time.Duration

	// Abuse limits and metrics (docs/limits.md).
	//
	// MaxPending caps the payloads a hook stores undelivered; a resume
	// beyond it gets ErrTooManyPending (429) and nothing is stored. A hook
	// may set its own (RegisterInput.MaxPending). Default 1,000.
	MaxPending int
	// MaxHeldCallers caps the callers one manual webhook holds at once; one
	// more gets ErrTooManyWaiting (429) and nothing is stored. A webhook may
	// set its own (CreateWebhookInput.MaxHeldCallers). Default
	// DefaultMaxHeldCallers.
	MaxHeldCallers int
	// Metrics, when set, is told what resumes did (Metric names, value 1,
	// or milliseconds for MetricWebhookHoldTime). It is called on the
	// request path: it must not block (internal/emf writes a log line).
	Metrics func(ctx context.Context, m Metric, value float64)

	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// NewID returns a new random identifier. Default: 128 random bits,
	// base64url.
	NewID func() string
	// Jitter returns a random duration in [0, d], to spread the backoff of
	// retried writes. Default: uniform from math/rand/v2. The simulator
	// (make sim) sets a seeded one, so one seed replays one schedule.
	Jitter func(d time.Duration) time.Duration

	// Verified webhooks (Verify, docs/webhook-signatures.md).
	//
	// Secrets reads their signing secrets; New builds it from the
	// aws.Config (Secrets Manager GetSecretValue).
	Secrets SecretsAPI
	// SecretsCacheTTL is how long a signing secret is kept in memory
	// before it is read again. Default 5 min: a rotated secret is seen
	// within that time.
	SecretsCacheTTL time.Duration
	// SignatureTolerance is how far a signed timestamp may be from the
	// clock, either way, unless the webhook sets its own
	// (Verify.ToleranceSeconds). Default 5 min.
	SignatureTolerance time.Duration
}

// MaxPayloadBytes is Step Functions' limit on a task's output, which a
// delivered payload becomes: 256 KiB.
const MaxPayloadBytes = 256 * 1024

// Client creates, awaits, resumes and disposes hooks. It is safe for
// concurrent use; create one per process and reuse it.
type Client struct {
	db    DynamoDBAPI
	sfn   StepFunctionsAPI
	kms   KMSAPI
	table string
	opts  Options

	secrets *secretCache
	// schemas caches compiled hook schemas (issue 13).
	schemas *schemaCache
}

// New returns a Client that uses cfg for the AWS clients it builds. The
// table name is required (in Options.TableName).
func New(cfg aws.Config, optFns ...func(*Options)) (*Client, error) {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.DynamoDB == nil {
		o.DynamoDB = dynamodb.NewFromConfig(cfg)
	}
	if o.StepFunctions == nil {
		o.StepFunctions = sfn.NewFromConfig(cfg)
	}
	if o.Secrets == nil {
		o.Secrets = secretsmanager.NewFromConfig(cfg)
	}
	if o.KMS == nil {
		o.KMS = kms.NewFromConfig(cfg)
	}
	return newClient(o)
}

// NewFromEnv loads the default AWS configuration (region, credentials, and
// endpoints such as AWS_ENDPOINT_URL) and reads HOOKS_TABLE and
// HOOKS_WEBHOOK_BASE_URL from the environment.
func NewFromEnv(ctx context.Context, optFns ...func(*Options)) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	env := func(o *Options) {
		o.TableName = os.Getenv(EnvTableName)
		o.WebhookBaseURL = os.Getenv(EnvWebhookBaseURL)
	}
	return New(cfg, append([]func(*Options){env}, optFns...)...)
}

func newClient(o Options) (*Client, error) {
	if o.TableName == "" {
		return nil, errors.New("hooks: table name is required (" + EnvTableName + ")")
	}
	if o.HookTTL <= 0 {
		o.HookTTL = 400 * 24 * time.Hour
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = 24 * time.Hour
	}
	if o.RedriveAfter <= 0 {
		o.RedriveAfter = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 25
	}
	if o.ContentionTimeout <= 0 {
		o.ContentionTimeout = 10 * time.Second
	}
	if o.HandOffWait <= 0 {
		o.HandOffWait = o.RedriveAfter
	}
	if o.MaxPayloadBytes <= 0 || o.MaxPayloadBytes > MaxPayloadBytes {
		o.MaxPayloadBytes = MaxPayloadBytes
	}
	if o.WebhookDeadline <= 0 {
		o.WebhookDeadline = DefaultWebhookDeadline
	}
	if o.WebhookPollInterval <= 0 {
		o.WebhookPollInterval = 5 * time.Millisecond
	}
	if o.WebhookPollMaxInterval < o.WebhookPollInterval {
		o.WebhookPollMaxInterval = max(100*time.Millisecond, o.WebhookPollInterval)
	}
	if o.WebhookFastPoll <= 0 {
		o.WebhookFastPoll = 300 * time.Millisecond
	}
	if o.ResponseTTL <= 0 {
		o.ResponseTTL = time.Hour
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.MaxHeldCallers <= 0 {
		o.MaxHeldCallers = DefaultMaxHeldCallers
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration { return mathrand.N(d + 1) }
	}
	if o.SecretsCacheTTL <= 0 {
		o.SecretsCacheTTL = DefaultSecretsCacheTTL
	}
	if o.SignatureTolerance <= 0 {
		o.SignatureTolerance = DefaultSignatureTolerance
	}
	c := &Client{db: o.DynamoDB, sfn: o.StepFunctions, kms: o.KMS, table: o.TableName, opts: o, schemas: &schemaCache{}}
	c.secrets = &secretCache{api: o.Secrets, ttl: o.SecretsCacheTTL, now: o.Now}
	return c, nil
}

// randomID returns 128 random bits, URL-safe base64 without padding.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
