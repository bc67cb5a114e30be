package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/jsonschema"
)

// ErrSchemaValidation is matched by *SchemaValidationError: a payload that
// fails its hook's JSON Schema. Nothing was stored or sent. HTTP 422.
var ErrSchemaValidation = errors.New("payload does not match the hook's schema")

// SchemaValidationError lists why a payload fails its hook's JSON Schema.
type SchemaValidationError struct {
	// Details are the failed assertions, deepest first: where in the
	// payload (instanceLocation, a JSON pointer), which keyword of the
	// schema (keywordLocation) and what is wrong (error).
	Details []SchemaViolation
}

// SchemaViolation is one failed assertion of a JSON Schema.
type SchemaViolation struct {
	InstanceLocation string `json:"instanceLocation"`
	KeywordLocation  string `json:"keywordLocation"`
	Error            string `json:"error"`
}

// maxViolations bounds the details reported (and the 422 body).
const maxViolations = 20

func (e *SchemaValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrSchemaValidation.Error())
	for i, d := range e.Details {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Details)-3)
			break
		}
		fmt.Fprintf(&b, "; at %q: %s", cmpOr(d.InstanceLocation, "/"), d.Error)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrSchemaValidation) true.
func (e *SchemaValidationError) Is(target error) bool { return target == ErrSchemaValidation }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// compiledSchema is a hook's schema, compiled once.
type compiledSchema struct {
	sha string
	sch *jsonschema.Schema
}

// compileSchema compiles a JSON Schema document (draft 2020-12 unless its
// $schema names draft 4, 6, 7 or 2019-09). A $ref must resolve inside the
// schema: nothing is loaded from the network or the file system. An invalid
// schema wraps ErrInvalidRequest.
func compileSchema(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: schema is not JSON: %v", ErrInvalidRequest, err)
	}
	sch, err := jsonschema.Compile(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: schema is not a valid JSON Schema: %v", ErrInvalidRequest, err)
	}
	return sch, nil
}

// validatePayload checks payload (compact JSON) against s.
func validatePayload(s *compiledSchema, payload string) error {
	inst, err := jsonschema.Decode(strings.NewReader(payload))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	ok, violations := s.sch.Validate(inst, maxViolations)
	if ok {
		return nil
	}
	out := &SchemaValidationError{}
	for _, v := range violations {
		// Where and which keyword only: never a value of the payload,
		// which must reach neither the caller nor the logs (sealed hooks
		// included).
		out.Details = append(out.Details, SchemaViolation{InstanceLocation: v.InstanceLocation, KeywordLocation: v.KeywordLocation, Error: failedKeyword(v.KeywordLocation)})
	}
	if len(out.Details) == 0 {
		out.Details = []SchemaViolation{{Error: "does not match the schema"}}
	}
	return out
}

// failedKeyword says which keyword of the schema failed, from its location
// (a JSON pointer: "/properties/card/pattern" → `fails "pattern"`).
func failedKeyword(loc string) string {
	kw := loc[strings.LastIndex(loc, "/")+1:]
	kw = strings.NewReplacer("~1", "/", "~0", "~").Replace(kw)
	if kw == "" {
		return "does not match the schema"
	}
	return "fails " + strconv.Quote(kw)
}

// schemaCache keeps compiled schemas by the sha256 of their text (a hook's
// schema never changes: a new one comes with a new hook, hence a new
// hookId), and which schema a token's hook had when last seen, so that a
// warm resume can validate before its first write. Bounded: past
// maxCachedSchemas entries it starts over.
type schemaCache struct {
	mu      sync.Mutex
	bySHA   map[string]*compiledSchema
	byToken map[string]string // token → sha of its hook's schema
}

const maxCachedSchemas = 256

func (sc *schemaCache) get(sha, text string) (*compiledSchema, error) {
	sc.mu.Lock()
	s, ok := sc.bySHA[sha]
	sc.mu.Unlock()
	if ok {
		return s, nil
	}
	sch, err := compileSchema([]byte(text))
	if err != nil {
		return nil, err
	}
	s = &compiledSchema{sha: sha, sch: sch}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.bySHA == nil || len(sc.bySHA) >= maxCachedSchemas {
		sc.bySHA = map[string]*compiledSchema{}
	}
	sc.bySHA[sha] = s
	return s, nil
}

// hint returns the compiled schema token's hook had when last seen.
func (sc *schemaCache) hint(token string) *compiledSchema {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sha, ok := sc.byToken[token]; ok {
		return sc.bySHA[sha]
	}
	return nil
}

func (sc *schemaCache) remember(token, sha string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.byToken == nil || len(sc.byToken) >= maxCachedSchemas {
		sc.byToken = map[string]string{}
	}
	sc.byToken[token] = sha
}

// normalizeSchema checks a schema given at creation: compact JSON that
// compiles. It returns the text to store.
func normalizeSchema(raw json.RawMessage) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", fmt.Errorf("%w: schema is not JSON: %v", ErrInvalidRequest, err)
	}
	if _, err := compileSchema(buf.Bytes()); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// schemaCheck is what a resume's writes (R1, S1, I2) are conditioned on
// about the hook's schema: the schema its payload was validated against
// (sha), or none (sha ""): a payload is never stored or sent to a hook
// whose schema it was not checked against. A rejection is not a payload:
// skip, no condition.
type schemaCheck struct {
	skip bool
	sha  string
}

// cond is the condition term, with its names and values added.
func (sc schemaCheck) cond(nm map[string]string, vals map[string]types.AttributeValue) string {
	if sc.skip {
		return ""
	}
	nm["#"+attrSchemaSHA] = attrSchemaSHA
	if sc.sha == "" {
		return " AND attribute_not_exists(#" + attrSchemaSHA + ")"
	}
	vals[":ssha"] = s(sc.sha)
	return " AND #" + attrSchemaSHA + " = :ssha"
}

// differs reports a hook, returned by a failed R1, whose schema is not the
// one the payload was checked against.
func (sc schemaCheck) differs(cur takeResult) bool {
	return !sc.skip && !cur.taken && cur.item != nil && cur.item.SchemaSHA != sc.sha
}

// schemaCheckFor is the check a resume starts with: none for a rejection;
// for a payload, the schema this token's hook had when last seen, if the
// payload passes it (a warm resume of a hook with a schema then needs no
// extra write), else "no schema" (the common case, free: a hook with a
// schema fails R1's condition and returns it).
func (c *Client) schemaCheckFor(token, payload string) schemaCheck {
	if _, ok := asRejection(payload); ok {
		return schemaCheck{skip: true}
	}
	if s := c.schemas.hint(token); s != nil && validatePayload(s, payload) == nil {
		return schemaCheck{sha: s.sha}
	}
	return schemaCheck{}
}

// checkSchema validates payload against hook h's schema (compiled once per
// schema, cached) and returns the check to condition the writes on.
func (c *Client) checkSchema(token string, h *hookItem, payload string) (schemaCheck, error) {
	if _, ok := asRejection(payload); ok {
		return schemaCheck{skip: true}, nil
	}
	if h == nil || h.SchemaSHA == "" {
		return schemaCheck{}, nil
	}
	sch, err := c.schemas.get(h.SchemaSHA, h.Schema)
	if err != nil {
		return schemaCheck{}, fmt.Errorf("the stored schema of hook %s: %v", Redact(token), err) // not the caller's fault: a 500
	}
	c.schemas.remember(token, h.SchemaSHA)
	if err := validatePayload(sch, payload); err != nil {
		return schemaCheck{}, err
	}
	return schemaCheck{sha: h.SchemaSHA}, nil
}

// ValidateSchema checks payload against a hook's JSON Schema exactly as a
// resume of the hook would (the sfnhooks console checks a payload before it
// sends it): nil when it matches; *SchemaValidationError (errors.Is
// ErrSchemaValidation) naming the failed keywords, never the payload's
// values; ErrInvalidPayload when payload is not JSON; ErrInvalidRequest
// when schema is not a valid JSON Schema.
func ValidateSchema(schema, payload json.RawMessage) error {
	sch, err := compileSchema(schema)
	if err != nil {
		return err
	}
	return validatePayload(&compiledSchema{sch: sch}, string(payload))
}
