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
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func main() {
	log := lambdacontext.NewLogger()
	client, err := hooks.NewFromEnv(context.Background())
	if err != nil {
		log.Error("init", slog.Any("err", err))
		os.Exit(1)
	}
	lambda.StartHandlerFunc(resumewebhook.New(client, log).Handle)
}
