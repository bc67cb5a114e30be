package sim

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// awsConfig is the configuration the simulated clients are built from:
// every client is given, so it only names a region.
func awsConfig() aws.Config { return aws.Config{Region: "us-east-1"} }

// unusedKMS and unusedSecrets answer the calls of sealed and verified hooks,
// which the simulator does not drive yet: any call is a simulator bug.
type unusedKMS struct{}

func (unusedKMS) GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return nil, errors.New("sim: KMS is not simulated")
}

func (unusedKMS) Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return nil, errors.New("sim: KMS is not simulated")
}

type unusedSecrets struct{}

func (unusedSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return nil, errors.New("sim: Secrets Manager is not simulated")
}

func asAPI(err error, target *smithy.APIError) bool { return errors.As(err, target) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
