// Package approvallink serves the approval links (docs/protocol.md,
// "Links"): GET /links/{id} shows a confirmation page and never resumes;
// POST /links/{id} (the page's form) uses the link. It is its own Lambda
// function (functions/approval-link) with its own reserved concurrency, so
// callers held by manual webhooks cannot starve the approvers, and its page
// is written without html/template (text/template's reflection keeps every
// exported method of the binary alive: 18 MB instead of 12).
package approvallink

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Linker is what the link routes need of hooks.Client.
type Linker interface {
	GetLink(ctx context.Context, id string) (*hooks.LinkView, error)
	UseLink(ctx context.Context, id, comment string) (*hooks.Link, error)
}

var _ Linker = (*hooks.Client)(nil)

// EnvEdgeSecret names the environment variable with the edge secret
// (Handler.EdgeSecret; template.yaml sets it when PublicEdgeRateLimit is on).
const EnvEdgeSecret = httpapi.EnvEdgeSecret

// Handler handles approval-link invocations.
type Handler struct {
	links Linker
	log   *slog.Logger
	// EdgeSecret, as resumewebhook.Handler's: when set, a request without
	// it in httpapi.HeaderEdge gets 403 before any AWS call.
	EdgeSecret string
}

// New returns a Handler.
func New(l Linker, log *slog.Logger) *Handler { return &Handler{links: l, log: log} }

var (
	//go:embed link.css
	linkCSS string
	// LinkCSP is the Content-Security-Policy of every link page: nothing
	// may load, the one inline style is allowed by its hash, the form may
	// only post to this origin, and no site may frame the page.
	LinkCSP = "default-src 'none'; style-src '" + styleHash(linkCSS) + "'; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'"
)

// MaxLinkFormBytes bounds a POST /links/{id} body (the form holds a comment
// of at most hooks.MaxLinkCommentLength characters, percent-encoded).
const MaxLinkFormBytes = 16 * 1024

func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageData is what a link page shows.
type pageData struct {
	Heading        string
	Description    string
	Form           bool
	Label          string
	CommentAllowed bool
	MaxComment     int
	Expires        string
	Message        string
}

// html renders d. Every value from a hook, a link or a request is escaped
// with html.EscapeString (&, <, >, ', "); the only raw text is this
// function's own markup and the embedded style sheet.
func (d pageData) html() string {
	e := html.EscapeString
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<meta name=\"robots\" content=\"noindex, nofollow\">\n")
	b.WriteString("<title>" + e(d.Heading) + "</title>\n<style>" + linkCSS + "</style>\n</head>\n<body>\n<main>\n")
	b.WriteString("<h1>" + e(d.Heading) + "</h1>")
	if d.Description != "" {
		b.WriteString("\n<p>" + e(d.Description) + "</p>")
	}
	if d.Form {
		b.WriteString("\n<p class=\"what\">This link will: <strong>" + e(d.Label) + "</strong></p>\n<form method=\"post\">")
		if d.CommentAllowed {
			b.WriteString("\n<label for=\"comment\">Comment (optional)</label>\n" +
				"<textarea id=\"comment\" name=\"comment\" maxlength=\"" + strconv.Itoa(d.MaxComment) + "\" aria-describedby=\"comment-hint\"></textarea>\n" +
				"<p id=\"comment-hint\" class=\"note\">Up to 1,000 characters; sent with your choice.</p>")
		}
		b.WriteString("\n<button type=\"submit\">" + e(d.Label) + "</button>\n</form>\n<p class=\"note\">Nothing happens until you press the button. This link works once")
		if d.Expires != "" {
			b.WriteString(" and until " + e(d.Expires))
		}
		b.WriteString(".</p>")
	} else {
		b.WriteString("\n<p>" + e(d.Message) + "</p>")
	}
	b.WriteString("\n</main>\n</body>\n</html>\n")
	return b.String()
}

// Handle serves GET and POST /links/{id}. Every outcome is a page.
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return h.handleLink(ctx, &ev), nil
}

// handleLink serves GET and POST /links/{id}.
func (h *Handler) handleLink(ctx context.Context, req *events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	start := time.Now()
	id, _ := httpapi.Token(req, "links") // an invalid id is an unknown one (hooks refuses it)
	method := req.RequestContext.HTTP.Method
	var (
		status int
		data   pageData
		err    error
	)
	switch {
	case !httpapi.ViaEdge(req, h.EdgeSecret):
		err = errNotViaEdge
	case method == http.MethodGet:
		var v *hooks.LinkView
		if v, err = h.links.GetLink(ctx, id); err == nil {
			status, data = http.StatusOK, formPage(v)
		}
	case method == http.MethodPost:
		var l *hooks.Link
		comment := ""
		if comment, err = linkForm(req); err == nil {
			if l, err = h.links.UseLink(ctx, id, comment); err == nil {
				status = http.StatusOK
				data = pageData{Heading: "Done", Message: "Your choice was recorded: " + l.Label + ". You can close this page."}
			}
		}
	default:
		err = errMethod
	}
	if err != nil {
		status, data = errorPage(err)
	}
	out := renderPage(status, data)
	if errors.Is(err, errMethod) {
		out.Headers["allow"] = "GET, POST"
	}
	h.logLink(ctx, id, req, status, err, start)
	return out
}

var (
	errMethod    = errors.New("method not allowed")
	errForbidden = errors.New("cross-site form submission")
	// errNotViaEdge: the request went around the distribution in front of
	// the public routes (its per-client rate limit).
	errNotViaEdge = errors.New("request without the edge header")
)

// linkForm checks that the POST comes from the link's own page and returns
// its comment. The link id in the URL is the credential; a browser's
// Sec-Fetch-Site (cross-site, same-site) or an Origin of another host
// marks a form that another site posted, which is refused.
func linkForm(req *events.APIGatewayV2HTTPRequest) (string, error) {
	switch req.Headers["sec-fetch-site"] {
	case "cross-site", "same-site":
		return "", errForbidden
	}
	if o := req.Headers["origin"]; o != "" && o != "null" {
		host := req.Headers["host"]
		if host == "" {
			host = req.RequestContext.DomainName
		}
		if u, err := url.Parse(o); err != nil || !strings.EqualFold(u.Host, host) {
			return "", errForbidden
		}
	}
	body, err := httpapi.Body(req)
	if err != nil {
		return "", err
	}
	if len(body) > MaxLinkFormBytes {
		return "", hooks.ErrInvalidRequest
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", hooks.ErrInvalidRequest
	}
	return strings.TrimSpace(strings.ReplaceAll(form.Get("comment"), "\r\n", "\n")), nil
}

func formPage(v *hooks.LinkView) pageData {
	d := pageData{
		Heading: v.Title, Description: v.Description, Form: true, Label: v.Label,
		CommentAllowed: v.CommentAllowed, MaxComment: hooks.MaxLinkCommentLength,
		Expires: v.ExpiresAt.UTC().Format("2 January 2006, 15:04 UTC"),
	}
	if d.Heading == "" {
		d.Heading = "Confirmation requested"
	}
	return d
}

// errorPage is the status and page of an error. Unknown links and links
// whose hook is gone answer 404, links used, expired or retired 410: the
// same page, with the message a person needs.
func errorPage(err error) (int, pageData) {
	var gone *hooks.LinkGoneError
	switch {
	case errors.As(err, &gone):
		d := pageData{Heading: "This link can no longer be used"}
		switch gone.Reason {
		case hooks.LinkGoneUsed:
			d.Message = "It was already used. Nothing was changed this time."
		case hooks.LinkGoneExpired:
			d.Message = "It has expired. Nothing was changed."
		default:
			d.Message = "Another link for the same request was already used. Nothing was changed."
		}
		return http.StatusGone, d
	case errors.Is(err, hooks.ErrLinkNotFound):
		return http.StatusNotFound, pageData{Heading: "This link is not valid", Message: "Check that you copied the whole link. Nothing was changed."}
	case errors.Is(err, hooks.ErrHookNotFound):
		return http.StatusNotFound, pageData{Heading: "This request is closed", Message: "It no longer waits for an answer. Nothing was changed."}
	case errors.Is(err, errNotViaEdge):
		return http.StatusForbidden, pageData{Heading: "Not sent", Message: "Open the link exactly as you received it. Nothing was changed."}
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, pageData{Heading: "Not sent", Message: "The confirmation must be sent from the link's own page. Open the link and press its button. Nothing was changed."}
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, pageData{Heading: "Not allowed", Message: "Open the link in a browser. Nothing was changed."}
	case errors.Is(err, hooks.ErrInvalidRequest):
		return http.StatusBadRequest, pageData{Heading: "Not sent", Message: "The comment is limited to 1,000 characters. Nothing was changed."}
	case errors.Is(err, hooks.ErrContention):
		return http.StatusServiceUnavailable, pageData{Heading: "Busy", Message: "Please press the button again in a moment."}
	}
	return http.StatusInternalServerError, pageData{Heading: "Something went wrong", Message: "Your choice may not have been recorded. Open the link again and press its button: using it twice is safe."}
}

// renderPage renders d with the headers of every link page: a strict CSP,
// no referrer, no caching, no sniffing, no framing.
func renderPage(status int, d pageData) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"content-type":            "text/html; charset=utf-8",
			"content-security-policy": LinkCSP,
			"referrer-policy":         "no-referrer",
			"cache-control":           "no-store",
			"x-content-type-options":  "nosniff",
			"x-frame-options":         "DENY",
		},
		Body: d.html(),
	}
}

// logLink logs one link request: the id as its fingerprint; never the
// payload or the comment.
func (h *Handler) logLink(ctx context.Context, id string, req *events.APIGatewayV2HTTPRequest, status int, err error, start time.Time) {
	outcome, level := "ok", slog.LevelInfo
	attrs := []slog.Attr{
		slog.Any("linkId", hooks.Secret(id)),
		slog.String("method", req.RequestContext.HTTP.Method),
		slog.String("apiRequestId", req.RequestContext.RequestID),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		outcome = hooks.ErrorFor(err).Code
		switch {
		case errors.Is(err, errForbidden):
			outcome = "CrossSiteForm"
		case errors.Is(err, errNotViaEdge):
			outcome = "NotViaEdge"
		case errors.Is(err, errMethod):
			outcome = hooks.CodeMethodNotAllowed
		case status >= 500:
			level = slog.LevelError
			attrs = append(attrs, slog.Any("err", err))
		}
	}
	attrs = append(attrs, slog.String("outcome", outcome))
	h.log.LogAttrs(ctx, level, "link", attrs...)
}
