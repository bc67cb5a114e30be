// Command resume-hook is the Lambda function behind POST and GET
// /hooks/{token}, also invoked directly by other functions with
// {"token","payload","idempotencyKey"}.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/emf"
	"github.com/sfnhooks/sfnhooks/internal/version"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func main() {
	log := lambdacontext.NewLogger()
	log.Info("init", slog.String("version", version.Version))
	// Metrics in CloudWatch embedded metric format: a line on stdout per
	// metric, no AWS call on the request path.
	metrics := emf.New(os.Stdout, "resume-hook")
	client, err := hooks.NewFromEnv(context.Background(), func(o *hooks.Options) { o.Metrics = metrics.Metric })
	if err != nil {
		log.Error("init", slog.Any("err", err))
		os.Exit(1)
	}
	lambda.StartHandlerFunc(resumehook.New(client, log).Handle)
}
