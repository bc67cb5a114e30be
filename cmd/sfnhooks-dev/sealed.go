package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// devKeyAlias names the dev stack's key for sealed payloads (template.yaml's
// HooksKmsKeyArn).
const devKeyAlias = "alias/" + stackName + "-hooks"

// ensureKMSKey returns the ARN of the dev key for sealed payloads, created
// in moto's KMS on the first run (moto keeps it while it runs).
func ensureKMSKey(ctx context.Context, api *kms.Client) (string, error) {
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(devKeyAlias)})
	if err == nil {
		return aws.ToString(out.KeyMetadata.Arn), nil
	}
	if _, notFound := errors.AsType[*kmstypes.NotFoundException](err); !notFound {
		return "", fmt.Errorf("describe KMS key %s: %w", devKeyAlias, err)
	}
	created, err := api.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sfnhooks dev: sealed payloads")})
	if err != nil {
		return "", fmt.Errorf("create KMS key: %w", err)
	}
	if _, err := api.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(devKeyAlias), TargetKeyId: created.KeyMetadata.KeyId}); err != nil {
		return "", fmt.Errorf("create KMS alias %s: %w", devKeyAlias, err)
	}
	return aws.ToString(created.KeyMetadata.Arn), nil
}

// sealedWalkthrough is the sealed approval example with curl.
func sealedWalkthrough(api, key string) string {
	return strings.NewReplacer("API", api, "KEY", key).Replace(`# Sealed payloads (docs/sealed.md), key KEY:
# the sealed approval example seals every payload of hook approval-<orderId>
curl -s -X POST API/dev/executions/sealed-approval -d '{"orderId":"43"}'
curl -s -X POST API/hooks/approval-43 -d '{"approved": true, "card": "4242"}'
# "sealed" is the envelope the await returned, "opened" what action open made of it
curl -s API/dev/executions/sealed-approval/latest
# a plain hook resumed with a key stays sealed end to end:
#   curl -s -X POST API/hooks/<token> -H 'X-Sfnhooks-Encryption-Key: KEY' -d '…'
`)
}
