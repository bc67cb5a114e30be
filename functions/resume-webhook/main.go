// Command resume-webhook is the Lambda function behind ANY /webhooks/{token}:
// it hands the HTTP request to the webhook's workflow and answers with the
// response the workflow chose (static, default 202, or manual).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumewebhook"
	"github.com/sfnhooks/sfnhooks/internal/emf"
	"github.com/sfnhooks/sfnhooks/internal/version"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func main() {
	log := lambdacontext.NewLogger()
	log.Info("init", slog.String("version", version.Version))
	// Metrics in CloudWatch embedded metric format: a line on stdout per
	// metric, no AWS call on the request path.
	metrics := emf.New(os.Stdout, "resume-webhook")
	client, err := hooks.NewFromEnv(context.Background(), func(o *hooks.Options) { o.Metrics = metrics.Metric })
	if err != nil {
		log.Error("init", slog.Any("err", err))
		os.Exit(1)
	}
	h := resumewebhook.New(client, log)
	h.EdgeSecret = os.Getenv(resumewebhook.EnvEdgeSecret) // set when CloudFront and WAF are in front (PublicEdgeRateLimit)
	lambda.StartHandlerFunc(h.Handle)
}
