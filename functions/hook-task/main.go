// Command hook-task is the workflow side: the Lambda function a state
// machine's Task states call to create, await and dispose hooks, and the
// target of the EventBridge rule that disposes an ended execution's hooks.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/version"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func main() {
	log := lambdacontext.NewLogger()
	log.Info("init", slog.String("version", version.Version))
	client, err := hooks.NewFromEnv(context.Background())
	if err != nil {
		log.Error("init", slog.Any("err", err))
		os.Exit(1)
	}
	lambda.StartHandlerFunc(hooktask.New(client, log).Handle)
}
