package hooks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Abuse limits (docs/protocol.md, "Limits"; docs/limits.md).
const (
	// DefaultMaxPending is Options.MaxPending's default.
	DefaultMaxPending = 1000
	// MaxMaxPending bounds a hook's own pending cap.
	MaxMaxPending = 1_000_000
	// DefaultMaxHeldCallers is Options.MaxHeldCallers's default: a payment
	// provider sends one callback per event and retries with backoff, so
	// 20 callers held at once on one URL is already a burst no provider
	// makes, while each held caller is a resume-webhook invocation for up
	// to the deadline (25 s): 20 is a small slice of the function's
	// reserved concurrency (template parameter
	// ResumeWebhookReservedConcurrency), so one URL cannot take it all.
	DefaultMaxHeldCallers = 20
	// MaxMaxHeldCallers bounds a webhook's own held-caller cap.
	MaxMaxHeldCallers = 1000
	// MinWebhookTokenLength is the shortest caller-chosen webhook token:
	// 22 URL-safe characters carry 132 bits (6 each), at least the 128 of
	// a generated token.
	MinWebhookTokenLength = 22
	// heldMargin is how long after a held caller's deadline its entry may
	// be taken for leaked (its Lambda was killed before it left).
	heldMargin = 5 * time.Second
	// noLim is the ceiling that a write raising dlv gives a hook created
	// before the pending cap (no lim yet): none, until the next await or
	// create sets lim = dlv + maxPending.
	noLim = int64(1) << 53
)

// Metric names a count the library reports through Options.Metrics.
type Metric string

// Metrics reported. Counts have value 1; MetricWebhookHoldTime is in
// milliseconds.
const (
	MetricAcknowledged    Metric = "ResumesAcknowledged" // a resume acknowledged (delivered or stored)
	MetricDeliveredAtOnce Metric = "DeliveredAtOnce"     // handed to a parked await at once (R1)
	MetricStored          Metric = "Stored"              // stored for a later await (S1)
	MetricNotFound        Metric = "NotFound"            // no live hook of that token (and kind)
	MetricContention      Metric = "Contention"          // ErrContention answered
	MetricTooMany         Metric = "TooManyRequests"     // a 429: pending or held-caller cap
	MetricWebhookHoldTime Metric = "WebhookHoldTime"     // ms a manual webhook's caller was held
)

func (c *Client) metric(ctx context.Context, m Metric, v float64) {
	if c.opts.Metrics != nil {
		c.opts.Metrics(ctx, m, v)
	}
}

// outcomeMetrics reports what a resume came to.
func (c *Client) outcomeMetrics(ctx context.Context, atOnce bool, err error) {
	switch {
	case err == nil:
		c.metric(ctx, MetricAcknowledged, 1)
		if atOnce {
			c.metric(ctx, MetricDeliveredAtOnce, 1)
		} else {
			c.metric(ctx, MetricStored, 1)
		}
	case errors.Is(err, ErrHookNotFound):
		c.metric(ctx, MetricNotFound, 1)
	case errors.Is(err, ErrContention):
		c.metric(ctx, MetricContention, 1)
	case errors.Is(err, ErrTooManyPending), errors.Is(err, ErrTooManyWaiting):
		c.metric(ctx, MetricTooMany, 1)
	}
}

func (c *Client) maxPending(in *RegisterInput) int64 {
	if in.MaxPending > 0 {
		return int64(in.MaxPending)
	}
	return int64(c.opts.MaxPending)
}

func tooManyPending(h *hookItem) error {
	return fmt.Errorf("%w: %d payloads are pending, the hook's limit; retry once the workflow has taken some", ErrTooManyPending, h.Seq-h.Dlv)
}

// checkWebhookToken refuses a caller-chosen webhook token that carries
// fewer than 128 bits: its public URL would be guessable. A webhook that
// verifies signatures may choose any valid token (the signature, not the
// URL, is then the credential).
func checkWebhookToken(in *CreateWebhookInput) error {
	if in.Token == "" {
		return nil // generated: 128 random bits
	}
	if err := ValidateToken(in.Token); err != nil {
		return err
	}
	if len(in.Token) >= MinWebhookTokenLength && strings.Trim(in.Token, urlSafe) == "" {
		return nil
	}
	return fmt.Errorf("%w: a chosen webhook token must be at least %d characters of [A-Za-z0-9_-] (128 bits); omit the token to have one generated",
		ErrWeakWebhookToken, MinWebhookTokenLength)
}

const urlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// maxStaleRemoved bounds the stale holders one write removes (an
// expression is at most 4 KB); one is enough to make room.
const maxStaleRemoved = 25

// hold counts one more caller held on the manual webhook h (H1 in
// docs/protocol.md, "Limits"): an entry of its own in the holders map,
// with the time after which it may be taken for leaked (its deadline plus
// heldMargin), and held = held + 1, on condition held < maxHeld. Each
// entry ends on its own: a caller killed before it left refuses others
// until its own deadline has passed, however many callers come meanwhile.
// release undoes it (H2); call it on every path once hold succeeded.
func (c *Client) hold(ctx context.Context, h *hookItem, deadline time.Duration) (release func(), err error) {
	me := c.opts.NewID()
	until := c.opts.Now().Add(deadline + heldMargin).UnixMilli()
	release = func() { c.unhold(ctx, h, me) }
	nm := map[string]string{"#hookId": attrHookID, "#held": attrHeld, "#maxHeld": attrMaxHeld, "#holders": attrHolders, "#me": me}
	for attempt := 0; attempt < 5; attempt++ {
		_, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &c.table,
			Key:       hookKey(h.Token),
			ConditionExpression: aws.String("#hookId = :hid AND attribute_exists(#holders) AND attribute_not_exists(#holders.#me) AND " +
				"(attribute_not_exists(#held) OR #held < #maxHeld)"),
			UpdateExpression:         aws.String("SET #held = if_not_exists(#held, :zero) + :one, #holders.#me = :until"),
			ExpressionAttributeNames: nm,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":hid": s(h.HookID), ":zero": n(0), ":one": n(1), ":until": n(until),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return release, nil
		}
		if transactionConflict(err) {
			c.backoff(ctx, attempt+1)
			continue
		}
		old, ok := conditionFailed(err)
		if !ok {
			return nil, fmt.Errorf("hold caller: %w", err)
		}
		cur := decodeHook(old)
		if cur == nil || cur.HookID != h.HookID {
			return nil, ErrHookNotFound
		}
		if _, ours := cur.Holders[me]; ours {
			// The SDK resent an H1 that DynamoDB had applied (its answer
			// was lost): this caller is counted, once.
			return release, nil
		}
		if cur.Holders == nil {
			// A webhook whose item has no holders map yet (created before
			// it): start one. A count it kept is dropped with it.
			err = c.update(ctx, h.Token, "#hookId = :hid AND attribute_not_exists(#holders)", "SET #holders = :none, #held = :zero REMOVE #heldUntil",
				map[string]string{"#hookId": attrHookID, "#holders": attrHolders, "#held": attrHeld, "#heldUntil": attrHeldUntil},
				map[string]types.AttributeValue{":hid": s(h.HookID), ":none": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}, ":zero": n(0)})
		} else {
			switch stale := cur.staleHolders(c.opts.Now().UnixMilli()); {
			case len(stale) > 0:
				// Those callers are past their deadline: they died without
				// leaving (or outstayed it). Their entries go, and their
				// counts with them, unless another caller removed them first.
				err = c.removeHolders(ctx, h, stale)
			case cur.Held > int64(len(cur.Holders)):
				// Counts without an entry: every write here changes both
				// together, so these were made by code from before the
				// holders map (a deployment under way). They are dropped.
				err = c.update(ctx, h.Token, "#hookId = :hid AND #held = :old", "SET #held = :n",
					map[string]string{"#hookId": attrHookID, "#held": attrHeld},
					map[string]types.AttributeValue{":hid": s(h.HookID), ":old": n(cur.Held), ":n": n(int64(len(cur.Holders)))})
			default:
				return nil, fmt.Errorf("%w: %d callers are held, the webhook's limit", ErrTooManyWaiting, cur.Held)
			}
		}
		if _, ok := conditionFailed(err); err != nil && !ok && !transactionConflict(err) {
			return nil, fmt.Errorf("hold caller: %w", err)
		}
	}
	return nil, ErrContention
}

// staleHolders lists the holders whose time ended before nowMs, at most
// maxStaleRemoved of them.
func (h *hookItem) staleHolders(nowMs int64) []string {
	var stale []string
	for id, until := range h.Holders {
		if until < nowMs && len(stale) < maxStaleRemoved {
			stale = append(stale, id)
		}
	}
	return stale
}

// removeHolders removes the entries ids and their counts, on condition
// that each is still there (a concurrent caller may have removed them).
func (c *Client) removeHolders(ctx context.Context, h *hookItem, ids []string) error {
	nm := map[string]string{"#hookId": attrHookID, "#held": attrHeld, "#holders": attrHolders}
	cond := "#hookId = :hid"
	paths := make([]string, len(ids))
	for i, id := range ids {
		ref := "#h" + strconv.Itoa(i)
		nm[ref] = id
		paths[i] = "#holders." + ref
		cond += " AND attribute_exists(" + paths[i] + ")"
	}
	return c.update(ctx, h.Token, cond, "REMOVE "+strings.Join(paths, ", ")+" SET #held = #held - :k", nm,
		map[string]types.AttributeValue{":hid": s(h.HookID), ":k": n(int64(len(ids)))})
}

// update is an UpdateItem of the hook item token.
func (c *Client) update(ctx context.Context, token, cond, update string, nm map[string]string, vals map[string]types.AttributeValue) error {
	_, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &c.table,
		Key:                       hookKey(token),
		ConditionExpression:       aws.String(cond),
		UpdateExpression:          aws.String(update),
		ExpressionAttributeNames:  nm,
		ExpressionAttributeValues: vals,
	})
	return err
}

// unhold is H2: the held caller me leaves (answered, timed out, or
// failed). Best effort: if it fails, its entry is removed once its time
// has passed. An entry already removed (the caller outstayed its time)
// is not counted off twice.
func (c *Client) unhold(ctx context.Context, h *hookItem, me string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = c.update(ctx, h.Token, "#hookId = :hid AND attribute_exists(#holders.#me)", "REMOVE #holders.#me SET #held = #held - :one",
		map[string]string{"#hookId": attrHookID, "#held": attrHeld, "#holders": attrHolders, "#me": me},
		map[string]types.AttributeValue{":hid": s(h.HookID), ":one": n(1)})
}
