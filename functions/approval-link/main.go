// Command approval-link is the Lambda function behind GET and POST
// /links/{id}: an approval link's confirmation page, and its button, which
// resumes the hook once (docs/protocol.md, "Links"). It is apart from
// resume-webhook so that its own reserved concurrency keeps approvers served
// whatever webhook callers hold.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfnhooks/sfnhooks/internal/adapter/approvallink"
	"github.com/sfnhooks/sfnhooks/internal/emf"
	"github.com/sfnhooks/sfnhooks/internal/version"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func main() {
	log := lambdacontext.NewLogger()
	log.Info("init", slog.String("version", version.Version))
	metrics := emf.New(os.Stdout, "approval-link")
	client, err := hooks.NewFromEnv(context.Background(), func(o *hooks.Options) { o.Metrics = metrics.Metric })
	if err != nil {
		log.Error("init", slog.Any("err", err))
		os.Exit(1)
	}
	h := approvallink.New(client, log)
	h.EdgeSecret = os.Getenv(approvallink.EnvEdgeSecret) // set when CloudFront and WAF are in front (PublicEdgeRateLimit)
	lambda.StartHandlerFunc(h.Handle)
}
