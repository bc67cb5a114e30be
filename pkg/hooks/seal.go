package hooks

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// KMSAPI is the part of the KMS client this package uses, with the SDK's
// exact signatures. *kms.Client satisfies it. A resumer only calls
// GenerateDataKey; only Open calls Decrypt.
type KMSAPI interface {
	GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// Encrypt makes a hook sealed: every payload resumed to it is sealed with a
// data key of KMSKeyID (docs/sealed.md).
type Encrypt struct {
	// KMSKeyID is a KMS key ID, key ARN, alias name or alias ARN that the
	// resumers may call kms:GenerateDataKey with.
	KMSKeyID string `json:"kmsKeyId"`
}

// Sealed envelope format (docs/sealed.md is the reference).
const (
	// SealedMarker is the member that marks a JSON object as a sealed
	// envelope; its value is the format version.
	SealedMarker = "sfnhooks:sealed"
	// SealedVersion is the envelope format this package writes. It opens
	// it and version 1, whose KMS encryption context also held the token
	// (CloudTrail logs contexts in clear: version 2 leaves it out).
	SealedVersion = 2
	// SealedAlg is the one content algorithm: AES-256-GCM, 96-bit nonce,
	// 128-bit tag appended to the ciphertext.
	SealedAlg = "AES256GCM"
)

// SealContext is the context of a sealed payload: the hook incarnation it
// was resumed to. As canonical JSON it is the AES-GCM additional data, so
// all three are bound to the ciphertext. The KMS encryption context of the
// data key is hookId and executionArn (version 2): CloudTrail logs KMS
// encryption contexts in clear, and a token is a credential (a webhook's
// URL); the random hookId names the incarnation as well. Version 1 put the
// token in the KMS context too.
type SealContext struct {
	Token        string `json:"token"`
	HookID       string `json:"hookId"`
	ExecutionARN string `json:"executionArn"`
}

// kms is the KMS encryption context of an envelope of version v.
func (sc SealContext) kms(v int) map[string]string {
	m := map[string]string{"hookId": sc.HookID, "executionArn": sc.ExecutionARN}
	if v == 1 {
		m["token"] = sc.Token
	}
	return m
}

// aad is the canonical JSON of the context, token included: keys sorted,
// no whitespace, no HTML escaping (the same for both versions).
func (sc SealContext) aad() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	m := sc.kms(2)
	m["token"] = sc.Token
	_ = enc.Encode(m) // a map of strings always encodes; map keys are sorted
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Envelope is a sealed payload: what DynamoDB stores and what the await's
// output carries for a sealed hook.
type Envelope struct {
	Version int    `json:"sfnhooks:sealed"`
	Alg     string `json:"alg"`
	// KeyID is the ARN of the KMS key that encrypted the data key.
	KeyID string `json:"keyId"`
	// EDK is the encrypted data key (KMS CiphertextBlob), IV the GCM nonce,
	// CT the ciphertext with its tag: all standard base64.
	EDK     string      `json:"edk"`
	IV      string      `json:"iv"`
	CT      string      `json:"ct"`
	Context SealContext `json:"ctx"`
}

// IsSealed reports whether payload is a sealed envelope (of any version).
func IsSealed(payload []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil {
		return false
	}
	_, ok := probe[SealedMarker]
	return ok
}

// ParseEnvelope decodes a sealed envelope.
//
// Errors: ErrNotSealed (not an envelope, or a version or algorithm this
// package does not know).
func ParseEnvelope(b []byte) (*Envelope, error) {
	if !IsSealed(b) {
		return nil, fmt.Errorf("%w: no %q member", ErrNotSealed, SealedMarker)
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSealed, err)
	}
	if (e.Version != SealedVersion && e.Version != 1) || e.Alg != SealedAlg {
		return nil, fmt.Errorf("%w: version %d, alg %q (want 1 or %d, %q)", ErrNotSealed, e.Version, e.Alg, SealedVersion, SealedAlg)
	}
	return &e, nil
}

// seal encrypts plaintext for sc with a new data key of keyID. One AWS
// call: kms:GenerateDataKey.
func seal(ctx context.Context, api KMSAPI, keyID string, sc SealContext, plaintext []byte) ([]byte, error) {
	out, err := api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(keyID),
		KeySpec:           kmstypes.DataKeySpecAes256,
		EncryptionContext: sc.kms(SealedVersion),
	})
	if err != nil {
		if code, ok := kmsRefused(err); ok {
			// The code only: KMS's message names the caller's role, and a
			// webhook's caller is anyone.
			return nil, fmt.Errorf("%w: KMS refused a data key of the key (%s)", ErrEncryptionKey, code)
		}
		return nil, fmt.Errorf("generate data key: %w", err)
	}
	defer clear(out.Plaintext)
	gcm, err := newGCM(out.Plaintext)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(iv) // crypto/rand.Read never fails (Go 1.24+)
	ct := gcm.Seal(nil, iv, plaintext, sc.aad())
	b64 := base64.StdEncoding.EncodeToString
	return json.Marshal(Envelope{
		Version: SealedVersion, Alg: SealedAlg, KeyID: aws.ToString(out.KeyId),
		EDK: b64(out.CiphertextBlob), IV: b64(iv), CT: b64(ct), Context: sc,
	})
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return cipher.NewGCM(block)
}

// Open decrypts the envelope and returns the payload as it was resumed. It
// calls kms:Decrypt once, with the envelope's key ID and encryption context:
// an envelope whose key or context was changed, or whose ciphertext was
// tampered with, is refused.
//
// Errors: ErrNotSealed, ErrOpenRefused (KMS refused the data key, or the
// ciphertext does not authenticate), or a wrapped AWS error.
func (e *Envelope) Open(ctx context.Context, api KMSAPI) (json.RawMessage, error) {
	dec := base64.StdEncoding.DecodeString
	edk, err1 := dec(e.EDK)
	iv, err2 := dec(e.IV)
	ct, err3 := dec(e.CT)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSealed, err)
	}
	out, err := api.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    edk,
		KeyId:             aws.String(e.KeyID),
		EncryptionContext: e.Context.kms(e.Version),
	})
	if err != nil {
		if _, ok := kmsRefused(err); ok {
			return nil, fmt.Errorf("%w: KMS refused the data key: %v", ErrOpenRefused, err)
		}
		return nil, fmt.Errorf("decrypt data key: %w", err)
	}
	defer clear(out.Plaintext)
	gcm, err := newGCM(out.Plaintext)
	if err != nil {
		return nil, err
	}
	if len(iv) != gcm.NonceSize() {
		return nil, fmt.Errorf("%w: iv is %d bytes, want %d", ErrNotSealed, len(iv), gcm.NonceSize())
	}
	pt, err := gcm.Open(nil, iv, ct, e.Context.aad())
	if err != nil {
		return nil, fmt.Errorf("%w: the ciphertext or its context does not authenticate", ErrOpenRefused)
	}
	return pt, nil
}

// Open opens a sealed envelope with api (a workflow's own Lambda; the
// hook-task action "open" uses Client.Open).
//
// Errors: as Envelope.Open.
func Open(ctx context.Context, api KMSAPI, envelope []byte) (json.RawMessage, error) {
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	return e.Open(ctx, api)
}

// OpenInput is what Client.Open opens, and what it must have been sealed
// for.
type OpenInput struct {
	// Envelope is the sealed payload, as the await returned it.
	Envelope json.RawMessage
	// ExecutionARN, when not empty, must be the execution the payload was
	// sealed for (the context's executionArn).
	ExecutionARN string
	// Token, when not empty, must be the hook it was resumed to (the
	// context's token): a workflow that names the hook it awaited cannot be
	// handed the envelope of another hook of the same execution.
	Token string
}

// Open opens a sealed envelope with the client's KMS client, after checking
// the context against in.ExecutionARN and in.Token (each when given): a
// mismatch is ErrOpenRefused without a KMS call.
//
// Errors: as Envelope.Open.
func (c *Client) Open(ctx context.Context, in OpenInput) (json.RawMessage, error) {
	e, err := ParseEnvelope(in.Envelope)
	if err != nil {
		return nil, err
	}
	if in.ExecutionARN != "" && e.Context.ExecutionARN != in.ExecutionARN {
		return nil, fmt.Errorf("%w: sealed for execution %s, not %s", ErrOpenRefused, e.Context.ExecutionARN, in.ExecutionARN)
	}
	if in.Token != "" && e.Context.Token != in.Token {
		return nil, fmt.Errorf("%w: sealed for hook %s, not %s", ErrOpenRefused, Redact(e.Context.Token), Redact(in.Token))
	}
	if c.kms == nil {
		return nil, errors.New("open: no KMS client (Options.KMS)")
	}
	return e.Open(ctx, c.kms)
}

// kmsRefused reports (with its code) a KMS answer about the key or the
// ciphertext (the caller's input), not about KMS itself: not found, disabled, wrong usage,
// access denied, or a ciphertext that does not decrypt with that key and
// context.
func kmsRefused(err error) (code string, ok bool) {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return "", false
	}
	switch code = api.ErrorCode(); code {
	case "NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException",
		"AccessDeniedException", "IncorrectKeyException", "InvalidCiphertextException", "KeyUnavailableException":
		return code, true
	}
	return "", false
}

// outgoing is a resume's payload as it is written: the plaintext, or the
// envelope sealed for one incarnation of the hook (docs/protocol.md,
// "Sealed resume").
type outgoing struct {
	plain     string
	key       string // WithEncryptionKey; "" for the hook's own key
	body      string // what is written: plain, or sealed for sealedFor
	sealedFor string // the hookId body is sealed for; "" while plain
	sealKey   string // the key body is sealed with
	// acked: body was acknowledged already (a requeue, a replay storing
	// its payload again): it is written as it is, to its incarnation.
	acked bool
	// reject: body is a rejection (error and cause for SendTaskFailure),
	// which is never sealed and never checked against a schema.
	reject bool
	// check is the hook schema the plaintext was validated against
	// (docs/protocol.md, "Schemas"); part of every acknowledging write's
	// condition.
	check schemaCheck
	// unverified: the payload comes from a caller whose signature nobody
	// checked (ResumeHook, RejectHook, a webhook request before its
	// verification): every write adds attribute_not_exists(verify), so it
	// never reaches a verified webhook (docs/protocol.md, "Verified
	// webhooks").
	unverified bool
	// delivery is set for a verified webhook request that carries its
	// provider's delivery id, the idempotency key (verify.go).
	delivery *deliveryKey
	// gate: a webhook request built without the webhook's own settings; R1
	// does not take a configured webhook's waiter, and the resume stops
	// with *configuredError so the caller reads them first (docs/protocol.md,
	// "Limits").
	gate bool
	// atOnce is set when the resume handed the payload to a parked await
	// (R1), for the metrics; else it was stored.
	atOnce bool
}

// ackedBody is a payload already acknowledged to hook h, as stored.
func ackedBody(body string) *outgoing {
	return &outgoing{body: body, acked: true, check: schemaCheck{skip: true}}
}

// cond is the sealing term of a write's condition (R1, S1, I2): a plain
// payload goes only to a hook without a key; a sealed one only to the
// incarnation it is sealed for, while that hook has no key or the key it
// was sealed with. An acknowledged payload is written as it is.
func (o *outgoing) cond(nm map[string]string, vals map[string]types.AttributeValue) string {
	if o.acked {
		return ""
	}
	if o.reject {
		return o.verifyCond(nm)
	}
	return o.sealCond(nm, vals) + o.check.cond(nm, vals) + o.verifyCond(nm)
}

// sealCond is the sealing term of cond.
func (o *outgoing) sealCond(nm map[string]string, vals map[string]types.AttributeValue) string {
	nm["#"+attrKMSKey] = attrKMSKey
	if o.sealedFor == "" {
		return " AND attribute_not_exists(#kmsKeyId)"
	}
	nm["#"+attrHookID] = attrHookID
	vals[":sealedFor"] = s(o.sealedFor)
	vals[":sealKey"] = s(o.sealKey)
	return " AND #hookId = :sealedFor AND (attribute_not_exists(#kmsKeyId) OR #kmsKeyId = :sealKey)"
}

// idemHash is what an idempotency record keeps of the payload: sha256 of
// the plaintext for a plain payload; for a sealed one, sha256 keyed with the
// idempotency key, so the record is no oracle for guessing the plaintext.
func (o *outgoing) idemHash(key string, sealed bool) string {
	if o.delivery != nil {
		return o.delivery.hash
	}
	if sealed {
		return sha256Hex("sfnhooks:sealed\x00" + key + "\x00" + o.plain)
	}
	return sha256Hex(o.plain)
}

// newOutgoing is a payload or rejection (slot) about to be acknowledged; key
// is WithEncryptionKey's (ignored for a rejection: SendTaskFailure carries
// no envelope).
func newOutgoing(slot, key string) *outgoing {
	if _, ok := asRejection(slot); ok {
		return &outgoing{plain: slot, body: slot, reject: true, check: schemaCheck{skip: true}}
	}
	return &outgoing{plain: slot, key: key, body: slot}
}

// needsSeal reports whether a payload to h must be sealed (and is not yet
// sealed for it).
func (o *outgoing) needsSeal(h *hookItem) bool {
	return !o.acked && !o.reject && (o.key != "" || h.KMSKeyID != "") && o.sealedFor != h.HookID
}

// sealFor seals the plaintext for hook h: with the override key if given
// (which a sealed hook must allow: it is its own key), else the hook's key.
func (c *Client) sealFor(ctx context.Context, o *outgoing, h *hookItem) error {
	key := h.KMSKeyID
	if o.key != "" {
		if h.KMSKeyID != "" && o.key != h.KMSKeyID {
			return fmt.Errorf("%w: the hook is sealed with another key; resume it without a key or with the key it was created with", ErrEncryptionKey)
		}
		key = o.key
	}
	if c.kms == nil {
		return errors.New("seal: no KMS client (Options.KMS)")
	}
	sc := SealContext{Token: h.Token, HookID: h.HookID, ExecutionARN: h.ExecutionARN}
	env, err := seal(ctx, c.kms, key, sc, []byte(o.plain))
	if err != nil {
		return err
	}
	if len(env) > c.opts.MaxPayloadBytes {
		return &PayloadTooLargeError{Size: len(env), Limit: c.opts.MaxPayloadBytes, Plaintext: len(o.plain)}
	}
	o.body, o.sealedFor, o.sealKey = string(env), h.HookID, key
	return nil
}
