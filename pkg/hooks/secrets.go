package hooks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsAPI is the part of the Secrets Manager client this package uses:
// the signing secrets of verified webhooks. *secretsmanager.Client
// satisfies it.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// DefaultSecretsCacheTTL is how long a signing secret is kept in memory
// (Options.SecretsCacheTTL).
const DefaultSecretsCacheTTL = 5 * time.Minute

// secretCache keeps the signing secrets read from Secrets Manager, per
// secret ARN, for a TTL: one GetSecretValue per secret per container and
// TTL. Concurrent misses of one ARN may each read it (harmless).
type secretCache struct {
	api SecretsAPI
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]secretEntry
}

type secretEntry struct {
	secrets []string
	at      time.Time
}

// get returns the secrets held by the secret arn: its SecretString split on
// whitespace, so that during a rotation it holds the new and the old one.
func (c *secretCache) get(ctx context.Context, arn string) ([]string, error) {
	c.mu.Lock()
	e, ok := c.entries[arn]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.secrets, nil
	}
	if c.api == nil {
		return nil, fmt.Errorf("read webhook secret: no Secrets Manager client (Options.Secrets)")
	}
	out, err := c.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return nil, fmt.Errorf("read webhook secret %s: %w", arn, err)
	}
	var secrets []string
	if out.SecretString != nil {
		secrets = strings.Fields(*out.SecretString)
	}
	if len(secrets) == 0 {
		return nil, fmt.Errorf("read webhook secret %s: its SecretString holds no secret", arn)
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]secretEntry{}
	}
	c.entries[arn] = secretEntry{secrets: secrets, at: c.now()}
	c.mu.Unlock()
	return secrets, nil
}
