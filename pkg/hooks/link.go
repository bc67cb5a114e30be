package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Approval links (docs/protocol.md, "Links"): a link is a random id that
// resumes one hook with a preset payload when a person confirms it on the
// page GET /links/{id} shows (POST /links/{id}). A GET never resumes.

// Limits and defaults of links.
const (
	// DefaultLinkExpiry is a link's life when CreateLinkInput.Expiry is 0.
	DefaultLinkExpiry = 7 * 24 * time.Hour
	// LinkRetention is how long a link item is kept after it expired, so
	// that a late click still gets "expired" (410) rather than "unknown"
	// (404). DynamoDB's TTL then deletes it.
	LinkRetention = 7 * 24 * time.Hour
	// MaxLinkPayloadBytes bounds a link's preset payload (compact JSON).
	MaxLinkPayloadBytes = 64 * 1024
	// MaxLinkCommentLength bounds the comment a person may add, in
	// characters (Unicode code points).
	MaxLinkCommentLength = 1000
	// MaxLinkLabelLength and MaxLinkGroupLength bound a link's label and
	// group name, in bytes.
	MaxLinkLabelLength = 200
	MaxLinkGroupLength = 128
	// MaxLinkIDLength bounds a link id in a URL.
	MaxLinkIDLength = 128
	// LinkCommentKey is the key under which a non-empty comment is added
	// to a link's payload (a JSON object; a preset value is replaced).
	LinkCommentKey = "comment"
	// DefaultLinkLabel is the label of a link created without one.
	DefaultLinkLabel = "Confirm"
)

// LinkState is the state of a link item.
type LinkState string

// States of a link (docs/protocol.md, "Links"). A link of a group whose
// group item names another link is retired, whatever its own state.
const (
	LinkOpen    LinkState = "open"    // created, not used
	LinkClaimed LinkState = "claimed" // a POST claimed it (and its group); its resume may not have been acknowledged yet
	LinkUsed    LinkState = "used"    // its resume was acknowledged
)

// Why a link is gone (LinkGoneError.Reason).
const (
	LinkGoneUsed    = "used"
	LinkGoneExpired = "expired"
	LinkGoneRetired = "retired"
)

var (
	// ErrLinkNotFound: no link has the id (never created, or deleted by the
	// TTL after it expired). Nothing was resumed. HTTP 404.
	ErrLinkNotFound = errors.New("link not found")
	// ErrLinkGone is matched by *LinkGoneError: the link was used, has
	// expired, or another link of its group was used. Nothing was resumed.
	// HTTP 410.
	ErrLinkGone = errors.New("link no longer valid")
)

// LinkGoneError reports a link that can no longer be used; Reason is
// LinkGoneUsed, LinkGoneExpired or LinkGoneRetired. It matches ErrLinkGone.
type LinkGoneError struct{ Reason string }

func (e *LinkGoneError) Error() string {
	switch e.Reason {
	case LinkGoneUsed:
		return "link was already used"
	case LinkGoneExpired:
		return "link has expired"
	default:
		return "another link of the same choice was already used"
	}
}

// Is makes errors.Is(err, ErrLinkGone) true.
func (e *LinkGoneError) Is(target error) bool { return target == ErrLinkGone }

// CreateLinkInput describes one link.
type CreateLinkInput struct {
	// Token names the hook the link resumes (it must exist: create it first).
	Token string
	// ExecutionARN is the execution that makes the link: it must hold the
	// hook (required; else *ConflictError). The link is bound to that
	// hook's incarnation (hookId), which no other execution ever holds.
	ExecutionARN string
	// Payload is what the hook receives (JSON; a json.RawMessage or []byte
	// is taken as JSON text), at most MaxLinkPayloadBytes. A JSON object
	// lets the person add a comment (LinkCommentKey).
	Payload any
	// Label says what the link does ("Approve"); DefaultLinkLabel if empty.
	Label string
	// Expiry is the link's life from now; DefaultLinkExpiry if 0, at most
	// Options.HookTTL.
	Expiry time.Duration
	// Group, when set, ties the links of one choice together: the first of
	// them used retires the others (scoped to the hook).
	Group string
}

// Link is a created link.
type Link struct {
	ID        string    `json:"linkId"`
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	HookID    string    `json:"hookId"`
	Label     string    `json:"label"`
	Group     string    `json:"group,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// LogValue implements slog.LogValuer: the id (the link's credential) and
// the token are logged as fingerprints.
func (l *Link) LogValue() slog.Value {
	if l == nil {
		return slog.Value{}
	}
	return slog.GroupValue(
		slog.String("linkId", Redact(l.ID)),
		slog.String("token", Redact(l.Token)),
		slog.String("hookId", l.HookID),
	)
}

// LinkView is what the page of a usable link shows.
type LinkView struct {
	Link
	State LinkState
	// Title and Description come from the hook's metadata fields "title"
	// and "description" (strings; empty when absent).
	Title       string
	Description string
	// CommentAllowed is true when the payload is a JSON object, to which a
	// comment can be added.
	CommentAllowed bool
}

// link attributes (see docs/protocol.md, "Links").
const (
	attrLabel      = "label"
	attrGroup      = "group"
	attrState      = "state"
	attrValidUntil = "validUntil" // epoch seconds; the link's expiry (expiresAt, the TTL, is later)
	attrClaimedAt  = "claimedAt"
	attrUsedAt     = "usedAt"
	attrUsedBy     = "usedBy"    // group item: the link that used the group
	attrHookUntil  = "hookUntil" // epoch seconds: the hook item's expiresAt when the link was created
	skLink         = "LINK"
	skLinkGroup    = "LINKGROUP"
)

func linkKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s("LINK#" + id), attrSK: s(skLink)}
}

// linkGroupKey: a group is scoped to the hook's incarnation.
func linkGroupKey(hookID, group string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s("LINKGROUP#" + hookID + "#" + group), attrSK: s(skLinkGroup)}
}

// LinkURL is the public URL of link id: Options.WebhookBaseURL +
// "/links/" + id.
func (c *Client) LinkURL(id string) string {
	return strings.TrimRight(c.opts.WebhookBaseURL, "/") + "/links/" + id
}

// validLinkID reports whether id can be a link id: 1 to MaxLinkIDLength
// characters of the base64url alphabet.
func validLinkID(id string) bool {
	if id == "" || len(id) > MaxLinkIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// CreateLink creates a link that resumes the hook in.Token with
// in.Payload when a person confirms it (docs/protocol.md, "Links"). Two AWS
// calls: GetItem of the hook, PutItem of the link.
//
// Errors: ErrInvalidToken, ErrInvalidRequest (label, group, expiry),
// ErrInvalidPayload, *PayloadTooLargeError, ErrHookNotFound,
// *ConflictError (in.ExecutionARN does not hold the hook), or a wrapped AWS
// error.
func (c *Client) CreateLink(ctx context.Context, in CreateLinkInput) (*Link, error) {
	if err := ValidateToken(in.Token); err != nil {
		return nil, err
	}
	if in.ExecutionARN == "" {
		return nil, fmt.Errorf("%w: executionArn is required ($$.Execution.Id): a link is made by the execution that holds the hook", ErrInvalidRequest)
	}
	label := in.Label
	if label == "" {
		label = DefaultLinkLabel
	}
	switch {
	case len(label) > MaxLinkLabelLength || !utf8.ValidString(label):
		return nil, fmt.Errorf("%w: label must be valid UTF-8 of at most %d bytes", ErrInvalidRequest, MaxLinkLabelLength)
	case len(in.Group) > MaxLinkGroupLength || !utf8.ValidString(in.Group):
		return nil, fmt.Errorf("%w: group must be valid UTF-8 of at most %d bytes", ErrInvalidRequest, MaxLinkGroupLength)
	case in.Expiry < 0 || in.Expiry > c.opts.HookTTL:
		return nil, fmt.Errorf("%w: expiry must be between 0 (default %s) and %s", ErrInvalidRequest, DefaultLinkExpiry, c.opts.HookTTL)
	}
	expiry := in.Expiry
	if expiry == 0 {
		expiry = DefaultLinkExpiry
	}
	payload, err := c.encodePayload(in.Payload)
	if err != nil {
		return nil, err
	}
	if len(payload) > MaxLinkPayloadBytes {
		return nil, &PayloadTooLargeError{Size: len(payload), Limit: MaxLinkPayloadBytes}
	}
	h, err := c.getHookItem(ctx, in.Token)
	if err != nil {
		return nil, fmt.Errorf("create link for %s: %w", Redact(in.Token), err)
	}
	if h == nil {
		return nil, fmt.Errorf("create link for %s: %w", Redact(in.Token), ErrHookNotFound)
	}
	if h.ExecutionARN != in.ExecutionARN {
		return nil, &ConflictError{Token: in.Token, ExecutionARN: h.ExecutionARN}
	}
	now := c.opts.Now()
	l := &Link{
		ID: c.opts.NewID(), Token: in.Token, HookID: h.HookID, Label: label, Group: in.Group,
		ExpiresAt: now.Add(expiry).Truncate(time.Second),
	}
	if h.ExpiresAt > 0 && l.ExpiresAt.Unix() > h.ExpiresAt {
		// A link is valid no longer than its hook lives: its group item
		// outlives the hook, so it outlives every link of the group.
		l.ExpiresAt = time.Unix(h.ExpiresAt, 0)
	}
	l.URL = c.LinkURL(l.ID)
	item := linkKey(l.ID)
	item[attrToken] = s(l.Token)
	item[attrHookID] = s(l.HookID)
	item[attrPayload] = s(payload)
	item[attrLabel] = s(label)
	item[attrState] = s(string(LinkOpen))
	item[attrCreatedAt] = s(now.UTC().Format(time.RFC3339Nano))
	item[attrValidUntil] = n(l.ExpiresAt.Unix())
	item[attrExpiresAt] = n(l.ExpiresAt.Add(LinkRetention).Unix())
	if h.ExpiresAt > 0 {
		item[attrHookUntil] = n(h.ExpiresAt)
	}
	if l.Group != "" {
		item[attrGroup] = s(l.Group)
	}
	_, err = c.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &c.table,
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            names(attrPK),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok && getS(old, attrCreatedAt) == getS(item, attrCreatedAt) &&
		getS(old, attrHookID) == l.HookID && getS(old, attrPayload) == payload {
		// The SDK resent the put after DynamoDB applied it (its answer was
		// lost): the item is ours. A 128-bit id meets no other link.
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("create link for %s: %w", Redact(in.Token), err)
	}
	return l, nil
}

// linkItem is a decoded link item.
type linkItem struct {
	Link
	Payload    string
	State      LinkState
	ValidUntil int64
	// HookUntil is the expiresAt of the hook when the link was created (0
	// on links created before it was recorded).
	HookUntil int64
}

func decodeLink(id string, m map[string]types.AttributeValue) *linkItem {
	if len(m) == 0 {
		return nil
	}
	l := &linkItem{
		Link: Link{
			ID: id, Token: getS(m, attrToken), HookID: getS(m, attrHookID),
			Label: getS(m, attrLabel), Group: getS(m, attrGroup),
		},
		Payload:    getS(m, attrPayload),
		State:      LinkState(getS(m, attrState)),
		ValidUntil: getN(m, attrValidUntil),
		HookUntil:  getN(m, attrHookUntil),
	}
	l.ExpiresAt = time.Unix(l.ValidUntil, 0)
	return l
}

// groupExpiry is the TTL of the group item a claim of l writes: past the
// hook's own TTL, so past the validity of every link of the group, those
// created later included (a link is valid no longer than its hook), plus
// LinkRetention. A link created before hookUntil was recorded uses now +
// HookTTL, which is past its hook's TTL.
func (c *Client) groupExpiry(l *linkItem, now time.Time) int64 {
	until := l.HookUntil
	if until == 0 {
		until = now.Add(c.opts.HookTTL).Unix()
	}
	return time.Unix(max(until, l.ValidUntil), 0).Add(LinkRetention).Unix()
}

// expired reports whether the link's life is over at now.
func (l *linkItem) expired(now time.Time) bool { return now.Unix() >= l.ValidUntil }

// liveLinkItem reads link id, which must be neither used nor expired (a
// retired one is told by its group).
func (c *Client) liveLinkItem(ctx context.Context, id string) (*linkItem, error) {
	l, err := c.getLinkItem(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case l.State == LinkUsed:
		return nil, &LinkGoneError{Reason: LinkGoneUsed}
	case l.expired(c.opts.Now()):
		return nil, &LinkGoneError{Reason: LinkGoneExpired}
	}
	return l, nil
}

func (c *Client) getLinkItem(ctx context.Context, id string) (*linkItem, error) {
	if !validLinkID(id) {
		return nil, ErrLinkNotFound // an id no link can have
	}
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: linkKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get link: %w", err)
	}
	l := decodeLink(id, out.Item)
	if l == nil {
		return nil, ErrLinkNotFound
	}
	l.URL = c.LinkURL(id)
	return l, nil
}

// GetLink returns what the page of link id shows. It only reads (the link,
// its group, its hook: up to three GetItem calls) and never resumes: a mail
// scanner or a link preview that fetches the link changes nothing.
//
// Errors: ErrLinkNotFound (unknown id), *LinkGoneError (used, expired, or
// retired by another link of its group), ErrHookNotFound (the hook was
// disposed or its token names a newer hook), or a wrapped AWS error.
func (c *Client) GetLink(ctx context.Context, id string) (*LinkView, error) {
	l, err := c.liveLinkItem(ctx, id)
	if err != nil {
		return nil, err
	}
	if l.Group != "" {
		out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: linkGroupKey(l.HookID, l.Group), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("get link group: %w", err)
		}
		if by := getS(out.Item, attrUsedBy); by != "" && by != id {
			return nil, &LinkGoneError{Reason: LinkGoneRetired}
		}
	}
	h, err := c.getHookItem(ctx, l.Token)
	if err != nil {
		return nil, err
	}
	if h == nil || h.HookID != l.HookID {
		return nil, fmt.Errorf("link's hook: %w", ErrHookNotFound)
	}
	v := &LinkView{Link: l.Link, State: l.State, CommentAllowed: strings.HasPrefix(l.Payload, "{")}
	var md struct {
		Title       any `json:"title"`
		Description any `json:"description"`
	}
	if json.Unmarshal(h.Metadata, &md) == nil {
		v.Title, _ = md.Title.(string)
		v.Description, _ = md.Description.(string)
	}
	return v, nil
}

// UseLink resumes the hook of link id with the link's payload, plus
// comment under LinkCommentKey when it is not empty (docs/protocol.md,
// "Links"). The link id is the resume's idempotency key, and the link and
// its group are claimed by one transaction before the resume: concurrent
// uses of one link deliver its payload once; of two links of one group,
// only the first claimed resumes.
//
// Errors: ErrLinkNotFound, *LinkGoneError (nothing resumed),
// ErrHookNotFound (the hook is gone; nothing resumed), ErrInvalidRequest
// (comment over MaxLinkCommentLength, or on a payload that is not an
// object), ErrContention, or a wrapped AWS error (outcome unknown: using
// the link again is safe).
func (c *Client) UseLink(ctx context.Context, id, comment string) (*Link, error) {
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > MaxLinkCommentLength {
		return nil, fmt.Errorf("%w: the comment is limited to %d characters", ErrInvalidRequest, MaxLinkCommentLength)
	}
	l, err := c.liveLinkItem(ctx, id)
	if err != nil {
		return nil, err
	}
	payload, err := withComment(l.Payload, comment)
	if err != nil {
		return nil, err
	}
	if err := c.claimLink(ctx, l); err != nil {
		return nil, err
	}
	// The idempotency record of the link lives as long as the link item:
	// a claimed link is accepted again while it is valid, so if L3 is
	// lost, only the record says the resume was applied.
	lc := c.withIdempotencyTTL(l.ExpiresAt.Add(LinkRetention).Sub(c.opts.Now()))
	_, err = lc.resumeHook(ctx, l.Token, l.HookID, json.RawMessage(payload), []ResumeOption{WithIdempotencyKey(id)})
	switch {
	case errors.Is(err, ErrIdempotencyMismatch):
		// The key was applied with another comment: this link was used.
		c.markLinkUsed(ctx, id)
		return nil, &LinkGoneError{Reason: LinkGoneUsed}
	case err != nil:
		return nil, err
	}
	// Acknowledged. If this write is lost the link stays claimed, and
	// using it again is answered from the idempotency record, which
	// outlives the link.
	c.markLinkUsed(ctx, id)
	return &l.Link, nil
}

// withIdempotencyTTL returns c, or a copy of c whose idempotency records
// live at least ttl. The copy shares c's AWS clients and caches.
func (c *Client) withIdempotencyTTL(ttl time.Duration) *Client {
	if ttl <= c.opts.IdempotencyTTL {
		return c
	}
	cc := *c
	cc.opts.IdempotencyTTL = ttl
	return &cc
}

// withComment adds comment to the JSON object payload.
func withComment(payload, comment string) (string, error) {
	if comment == "" {
		return payload, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &obj); err != nil || obj == nil {
		return "", fmt.Errorf("%w: this link takes no comment (its payload is not a JSON object)", ErrInvalidRequest)
	}
	cj, _ := json.Marshal(comment)
	obj[LinkCommentKey] = cj
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return string(b), nil
}

// claimLink is L1: one transaction that moves the link from open (or
// claimed, a retry) to claimed while it is valid, and takes its group for
// it (the group item is created naming this link, or already names it).
func (c *Client) claimLink(ctx context.Context, l *linkItem) error {
	now := c.opts.Now()
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &c.table,
		Key:       linkKey(l.ID),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #validUntil > :now AND " +
			"(#state = :open OR #state = :claimed)"),
		UpdateExpression:         aws.String("SET #state = :claimed, #claimedAt = if_not_exists(#claimedAt, :at)"),
		ExpressionAttributeNames: names(attrPK, attrValidUntil, attrState, attrClaimedAt),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": n(now.Unix()), ":open": s(string(LinkOpen)), ":claimed": s(string(LinkClaimed)),
			":at": s(now.UTC().Format(time.RFC3339Nano)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	if l.Group != "" {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                &c.table,
			Key:                      linkGroupKey(l.HookID, l.Group),
			ConditionExpression:      aws.String("attribute_not_exists(#usedBy) OR #usedBy = :id"),
			UpdateExpression:         aws.String("SET #usedBy = :id, #expiresAt = :ttl"),
			ExpressionAttributeNames: names(attrUsedBy, attrExpiresAt),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":id": s(l.ID), ":ttl": n(c.groupExpiry(l, now)),
			},
		}})
	}
	_, err := c.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return fmt.Errorf("claim link: %w", err)
	}
	reasons := tce.CancellationReasons
	code := func(i int) string {
		if i < len(reasons) && reasons[i].Code != nil {
			return *reasons[i].Code
		}
		return ""
	}
	switch {
	case code(0) == "ConditionalCheckFailed":
		// Moved since it was read: used by a concurrent POST, expired,
		// or deleted.
		var old map[string]types.AttributeValue
		if len(reasons) > 0 {
			old = reasons[0].Item
		}
		cur := decodeLink(l.ID, old)
		if cur == nil {
			cur = l // no item came back (deleted by the TTL, or not returned)
		}
		if cur.expired(now) {
			return &LinkGoneError{Reason: LinkGoneExpired}
		}
		return &LinkGoneError{Reason: LinkGoneUsed}
	case code(1) == "ConditionalCheckFailed":
		return &LinkGoneError{Reason: LinkGoneRetired}
	case code(0) == "TransactionConflict" || code(1) == "TransactionConflict":
		return fmt.Errorf("claim link: %w", ErrContention)
	}
	return fmt.Errorf("claim link: %w", err)
}

// markLinkUsed is L3: claimed → used, once the resume was acknowledged.
// Best effort: a link left claimed is used again safely (its resume is
// answered from the idempotency record, kept as long as the link item).
func (c *Client) markLinkUsed(ctx context.Context, id string) {
	_, _ = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &c.table,
		Key:                      linkKey(id),
		ConditionExpression:      aws.String("#state = :claimed"),
		UpdateExpression:         aws.String("SET #state = :used, #usedAt = :at"),
		ExpressionAttributeNames: names(attrState, attrUsedAt),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claimed": s(string(LinkClaimed)), ":used": s(string(LinkUsed)),
			":at": s(c.opts.Now().UTC().Format(time.RFC3339Nano)),
		},
	})
}
