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
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func main() {
	log := lambdacontext.NewLogger()
	client, err := hooks.NewFromEnv(context.Background())
	if err != nil {
		log.Error("init", slog.Any("err", err))
		os.Exit(1)
	}
	lambda.StartHandlerFunc(resumehook.New(client, log).Handle)
}
