package main

// mutants are the protocol bugs the tests must catch, against the code of
// pkg/hooks as it is (docs/protocol.md names the steps). Keep each one a
// minimal, plausible bug; when the code changes under a snippet, mutate
// refuses to run until the mutant is updated. Where a term of a condition
// expression is dropped, the attribute names and values it alone used are
// dropped too (real DynamoDB refuses unused ones), or the term is made
// always true, so the mutant is still a request DynamoDB would accept.
var mutants = []mutant{
	{
		Name: "M1-closed-task-delivered",
		Desc: "send: a task that closed without the payload (settled: task over) counts as delivered",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "\t}\n\treturn taskOver, nil\n}",
			New: "\t}\n\treturn delivered, nil\n}",
		}},
	},
	{
		Name: "M2-append-no-put",
		Desc: "S1 appendPayload: the transaction counts the payload (seq+1) but does not put MSG#key",
		File: "pkg/hooks/resume.go",
		Edits: []edit{{
			Old: "\t\t{Put: c.msgPut(h, c.queueKey(), payload, c.expiry(h))},\n",
			New: "",
		}, {
			// payload is then unused: drop it, or the mutant does not build.
			Old: "\tpayload := o.body\n\tcond := \"#hookId = :hid AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))\"\n",
			New: "\tcond := \"#hookId = :hid AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))\"\n",
		}},
	},
	{
		Name: "M3-requeue-no-put",
		Desc: "requeue: the transaction gives the payload back (dlv-1) but does not put MSG#pos",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "\t\t\t{Put: c.msgPut(h, pos, payload, c.expiry(h))},\n",
			New: "",
		}},
	},
	{
		Name: "M4-R1-no-inflight-term",
		Desc: "R1 takeWaiter: condition without attribute_not_exists(#inflight) (takes a waiter already delivered to)",
		File: "pkg/hooks/resume.go",
		Edits: []edit{{
			Old: `cond := "attribute_exists(#waiter) AND attribute_not_exists(#inflight)"`,
			New: `cond := "attribute_exists(#waiter)"`,
		}},
	},
	{
		Name: "M5-S1-no-not-waiting-term",
		Desc: "S1 appendPayload: condition without the not-Waiting term (stores while an await is parked)",
		File: "pkg/hooks/resume.go",
		Edits: []edit{{
			Old: "cond := \"#hookId = :hid AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))\"\n\tnm := names(attrHookID, attrSeq, attrWaiter, attrInflight)",
			New: "cond := \"#hookId = :hid\"\n\tnm := names(attrHookID, attrSeq)",
		}},
	},
	{
		Name: "M6-A1-no-seq-eq-dlv",
		Desc: "A1 await: condition without (seq = dlv) (parks while payloads are pending)",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\"(attribute_not_exists(#seq) OR #seq = #dlv) AND \" +\n",
			New: "\"\" +\n",
		}},
	},
	{
		Name: "M7-A3-no-handout-term",
		Desc: "A3 deliverBacklog: the (no uncommitted hand-out OR it is the one taken over) term always true",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "(attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid)",
			New: "(attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid OR attribute_exists(#inflight.#fkey))",
		}},
	},
	{
		Name: "M8-A5-no-key-term",
		Desc: "A5 commit: condition without inflight.key = :key (a second commit of one hand-out counts it twice)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{
			{Old: `aws.String("#inflight.#id = :fid AND #inflight.#key = :key")`, New: `aws.String("#inflight.#id = :fid")`},
			{Old: `":fid": s(f.ID), ":key": s(f.Key), ":one": n(1),`, New: `":fid": s(f.ID), ":one": n(1),`},
		},
	},
	{
		Name: "M9-requeue-no-dlv-term",
		Desc: "requeue: condition without dlv = seq_P",
		File: "pkg/hooks/delivery.go",
		// A resume's record is written by R1 (or the keyed R1) with dlv
		// = seq_P, and every h that requeue gets was read with that record
		// (R1's ALL_NEW or ALL_OLD, A1's ALL_OLD, I1 with no write
		// between: a parked await blocks S1 and A3). While inflight.id
		// names it nothing writes dlv: R1 needs no inflight, S1 writes seq
		// only, A5 needs inflight.key (a resume's record has none), A1
		// and A3 replace the record.
		Equivalent: "inflight.id = :fid implies dlv = seq_P",
		Edits: []edit{
			{Old: `aws.String("#inflight.#id = :fid AND #dlv = :seq")`, New: `aws.String("#inflight.#id = :fid")`},
			{Old: `":fid": s(f.ID), ":seq": n(seq), ":prev": n(seq - 1),`, New: `":fid": s(f.ID), ":prev": n(seq - 1),`},
		},
	},
	{
		Name: "M10-no-commit-after-send",
		Desc: "deliver: a hand-out of a stored payload that was delivered is not committed (A5 skipped)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "if res == delivered && !f.stored() {",
			New: "if res == delivered {",
		}},
	},
	{
		Name: "M11-resume-no-redrive",
		Desc: "resume: a stale in-flight record is not redriven before storing",
		File: "pkg/hooks/resume.go",
		Edits: []edit{{
			Old: "\t\t_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)\n",
			New: "",
		}},
	},
	{
		Name: "M12-commit-before-send",
		Desc: "deliverBacklog: A5 commit before A4 send (a crash or closed task between them loses the payload)",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\th.Waiter, h.Inflight = taskToken, &f\n",
			New: "\th.Waiter, h.Inflight = taskToken, &f\n\tif err := c.commit(ctx, h, f); err != nil {\n\t\treturn false, err\n\t}\n",
		}},
	},
	{
		Name: "M13-A2-newest-first",
		Desc: "A2 deliverBacklog: the Query reads the newest stored payload, not the oldest",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\tq.Limit = aws.Int32(1)\n",
			New: "\tq.Limit = aws.Int32(1)\n\tq.ScanIndexForward = aws.Bool(false)\n",
		}},
	},
	{
		Name: "M14-requeue-at-end",
		Desc: "requeue: puts the payload under a new queue key, at the end of the queue, not its own position (FIFO broken)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "\tpos := f.Pos\n",
			New: "\tpos := c.queueKey()\n",
		}},
	},
	{
		Name: "M15-replay-hash-ignored",
		Desc: "replay: a mismatched idempotency hash is answered as applied",
		File: "pkg/hooks/idempotency.go",
		Edits: []edit{{
			Old: "\tif rec.Hash != o.idemHash(key, rec.Sealed != \"\") {\n",
			New: "\tif rec.Hash == \"\" && rec.Hash != o.idemHash(key, rec.Sealed != \"\") {\n",
		}},
	},
	{
		Name: "M16-webhook-no-kind",
		Desc: "ResumeWebhook: resumes without the kind condition (a plain hook's token is a webhook)",
		File: "pkg/hooks/webhook.go",
		Edits: []edit{{
			Old: `h, err := c.resume(ctx, token, "", KindWebhook, out)`,
			New: `h, err := c.resume(ctx, token, "", "", out)`,
		}},
	},
	{
		Name: "M17-settle-any-output",
		Desc: "settle: any TaskSucceeded of the task counts as delivered, whatever its output",
		File: "pkg/hooks/history.go",
		Edits: []edit{{
			Old: "d != nil && compactJSON(aws.ToString(d.Output)) == want",
			New: "d != nil && len(want) >= 0",
		}},
	},
	{
		Name: "M18-R1-own-record-ignored",
		Desc: "R1 takeWaiter: a resent R1 that finds its own record stores the payload as well (9.3)",
		File: "pkg/hooks/resume.go",
		Edits: []edit{{
			Old: "\t\tif h != nil && h.Inflight != nil && h.Inflight.ID == f.ID {\n" +
				"\t\t\t// Our own record: the SDK resent a write that had been applied\n" +
				"\t\t\t// (its answer was lost), and the resend failed the condition on\n" +
				"\t\t\t// the record the first attempt wrote. The waiter is ours.\n" +
				"\t\t\th.Inflight.Payload = payload\n" +
				"\t\t\treturn takeResult{taken: true, item: h, flight: f}, nil\n" +
				"\t\t}\n",
			New: "",
		}},
	},
	{
		Name: "M19-replay-redrive-2s",
		Desc: "replay: redrives the first resume's delivery only once it is 2 s old",
		File: "pkg/hooks/idempotency.go",
		Edits: []edit{{
			Old: "res, err := c.redrive(ctx, h, 0)",
			New: "res, err := c.redrive(ctx, h, 2e9)",
		}},
	},
	{
		Name: "M20-unsettled-close-requeues",
		Desc: "send: a closed task whose end the history does not show yet counts as over (requeue)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "\tcase !out.Closed:\n\t\t// Step Functions says the task is over",
			New: "\tcase false:\n\t\t// Step Functions says the task is over",
		}},
	},
	{
		Name: "M21-committed-handout-resent",
		Desc: "a committed hand-out ({id, at}, no payload) is redriven with an empty payload (the bug make chaos found: commit does not mark it sent, payloadOf does not refuse it; each alone is enough)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "return f.Payload, f.Payload != \"\", nil",
			New: "return f.Payload, true, nil",
		}, {
			Old: `"SET #dlv = #dlv + :one, #inflight.#redriven = :t, " + limUp + " REMOVE #inflight.#key"`,
			New: `"SET #dlv = #dlv + :one, " + limUp + " REMOVE #inflight.#key"`,
		}, {
			Old: `"#key": fKey, "#redriven": fRedriven}`,
			New: `"#key": fKey}`,
		}, {
			Old: `":one": n(1), ":t": &types.AttributeValueMemberBOOL{Value: true},`,
			New: `":one": n(1),`,
		}},
	},
	{
		Name: "M23-rejection-sent-as-payload",
		Desc: "sendSlot: a rejection is sent with SendTaskSuccess (its encoded slot as the output), not SendTaskFailure (issue 13)",
		File: "pkg/hooks/reject.go",
		Edits: []edit{{
			Old: "\tif r, ok := asRejection(slot); ok {\n\t\t_, err := c.sfn.SendTaskFailure(",
			New: "\tif r, ok := asRejection(slot); ok && false {\n\t\t_, err := c.sfn.SendTaskFailure(",
		}},
	},
	{
		Name: "M24-rejection-settled-as-payload",
		Desc: "settle: a rejection's end is looked for as a TaskSucceeded with its slot as output, never found: a rejection that arrived is requeued and fails a second await (issue 13)",
		File: "pkg/hooks/history.go",
		Edits: []edit{{
			Old: "\tif r, ok := asRejection(slot); ok {\n\t\treturn func(ev sfntypes.HistoryEvent) bool {",
			New: "\tif r, ok := asRejection(slot); ok && false {\n\t\treturn func(ev sfntypes.HistoryEvent) bool {",
		}},
	},
	{
		Name: "M25-schema-term-dropped",
		Desc: "R1/S1/I2: the schema term is left out of the conditions: a payload checked against no schema is acknowledged to a hook with one (issue 13)",
		File: "pkg/hooks/jsonschema.go",
		Edits: []edit{{
			Old: "\tif sc.skip {\n\t\treturn \"\"\n\t}",
			New: "\tif true {\n\t\treturn \"\"\n\t}",
		}},
	},
	{
		Name: "M22-open-handout-taken-over",
		Desc: "settleHandOff: a stale hand-out whose task is still open is taken over",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\tcase !out.Closed:\n\t\treturn handOffRetry, nil",
			New: "\tcase false:\n\t\treturn handOffRetry, nil",
		}},
	},
	{
		Name: "M27-verified-webhook-unchecked",
		Desc: "R1/S1/I2 for an unverified payload: condition without attribute_not_exists(verify) (an unsigned request reaches a verified webhook's waiter)",
		File: "pkg/hooks/webhook.go",
		Edits: []edit{{
			Old: "\tnm[\"#\"+attrVerify] = attrVerify\n\treturn \" AND attribute_not_exists(#verify)\"\n",
			New: "\treturn \"\"\n",
		}},
		Pkgs: []string{"./pkg/hooks/"},
	},
	{
		Name: "M28-signature-length-only",
		Desc: "verify: a signature of the right length matches (no HMAC comparison)",
		File: "pkg/hooks/verify.go",
		Edits: []edit{{
			Old: "if hmac.Equal(e, c) {",
			New: "if len(e) == len(c) {",
		}},
		Pkgs: []string{"./pkg/hooks/"},
	},
	{
		Name: "M29-signature-never-stale",
		Desc: "verify: a signed timestamp outside the tolerance is accepted (replays of captured requests)",
		File: "pkg/hooks/verify.go",
		Edits: []edit{{
			Old: "if d > req.tolerance || d < -req.tolerance {",
			New: "if false && (d > req.tolerance || d < -req.tolerance) {",
		}},
		Pkgs: []string{"./pkg/hooks/"},
	},
	{
		Name: "M30-delivery-id-ignored",
		Desc: "resumeConfigured: a verified request with a delivery id is resumed without it as idempotency key (a provider's retry is delivered twice)",
		File: "pkg/hooks/webhook.go",
		Edits: []edit{{
			Old: "\tif dk == nil {\n\t\thook, err = c.resume(ctx, h.Token, h.HookID, KindWebhook, o)",
			New: "\tif true {\n\t\thook, err = c.resume(ctx, h.Token, h.HookID, KindWebhook, o)",
		}},
		Pkgs: []string{"./pkg/hooks/"},
	},
	{
		Name: "ML1-link-group-not-conditioned",
		Desc: "L1 claimLink: the group item's condition always holds (a sibling of a used link resumes too)",
		File: "pkg/hooks/link.go",
		Pkgs: []string{"./e2e/"},
		Edits: []edit{{
			Old: `aws.String("attribute_not_exists(#usedBy) OR #usedBy = :id")`,
			New: `aws.String("attribute_not_exists(#usedBy) OR #usedBy = :id OR attribute_exists(#usedBy)")`,
		}},
	},
	{
		Name: "ML2-link-no-idempotency-key",
		Desc: "L2 UseLink: the resume carries no idempotency key (a retried or double-clicked link is delivered twice)",
		File: "pkg/hooks/link.go",
		Pkgs: []string{"./e2e/"},
		Edits: []edit{{
			Old: "[]ResumeOption{WithIdempotencyKey(id)}",
			New: "nil",
		}},
	},
	{
		Name: "MS1-plain-write-to-sealed-hook",
		Desc: "Sealed resume: a plaintext payload's writes are not conditioned on the hook having no key (a plain R1 hands the plaintext to a sealed hook's await)",
		File: "pkg/hooks/seal.go",
		Pkgs: []string{"./e2e/"},
		Edits: []edit{{
			Old: "\tif o.sealedFor == \"\" {\n\t\treturn \" AND attribute_not_exists(#kmsKeyId)\"\n\t}",
			New: "\tif o.sealedFor == \"\" {\n\t\tdelete(nm, \"#\"+attrKMSKey)\n\t\treturn \"\"\n\t}",
		}},
	},
	{
		Name: "MS2-sealed-write-not-pinned",
		Desc: "Sealed resume: a sealed payload's R1 is not conditioned on the incarnation it was sealed for (a recreated hook's await gets a payload sealed for the old one)",
		File: "pkg/hooks/seal.go",
		Edits: []edit{{
			Old: "\tnm[\"#\"+attrHookID] = attrHookID\n\tvals[\":sealedFor\"] = s(o.sealedFor)\n\tvals[\":sealKey\"] = s(o.sealKey)\n\treturn \" AND #hookId = :sealedFor AND (attribute_not_exists(#kmsKeyId) OR #kmsKeyId = :sealKey)\"",
			New: "\tvals[\":sealKey\"] = s(o.sealKey)\n\treturn \" AND (attribute_not_exists(#kmsKeyId) OR #kmsKeyId = :sealKey)\"",
		}},
	},
	{
		Name: "M31-commit-folded-into-next-await",
		Desc: "A1: another await's uncommitted hand-out is presumed consumed and committed at once (issue 10.2's fold; docs/protocol.md, \"Why a backlog await costs five calls\": a claimant that died before its send loses the payload)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t\tif c.opts.Now().Sub(f.At) < c.opts.HandOffWait {\n\t\t\t\t\tcontinue\n\t\t\t\t}\n",
			New: "\t\t\t\tif err := c.commit(ctx, cur, *f); err != nil {\n\t\t\t\t\treturn err\n\t\t\t\t}\n\t\t\t\tcontinue\n",
		}},
	},
	// Issue 20, section 3: the five bugs a test audit injected and no test
	// caught (pkg/hooks/audit_test.go holds a test for each), then a
	// mutant for each decision point that had none.
	{
		Name: "M60-settle-any-task-same-text",
		Desc: "settle: a payload counts as delivered when any task of the execution succeeded with the same text, not the task of this token (a second identical {\"approved\":true} to a timed-out task is acknowledged, then lost)",
		File: "pkg/hooks/history.go",
		Edits: []edit{{
			Old: "out.Delivered = slices.ContainsFunc(carried, func(ev sfntypes.HistoryEvent) bool { return scheduledBy(events, ev) == scheduled })",
			New: "out.Delivered = len(carried) > 0",
		}},
	},
	{
		Name: "M61-keyed-record-no-pos",
		Desc: "resumeIdempotent (I2): the keyed resume's in-flight record carries no queue position (pos), so its requeue puts the payload at the back of the queue (FIFO broken)",
		File: "pkg/hooks/idempotency.go",
		Edits: []edit{{
			Old: "f = inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now(), Pos: c.queueKey()}",
			New: "f = inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now()}",
		}},
	},
	{
		Name: "M62-replay-stores-without-looking",
		Desc: "confirmDelivery (keyed replay, record no longer in flight, not in the history): the payload is stored again without looking for it among the stored payloads (isPending), so a requeued payload is stored twice under one key",
		File: "pkg/hooks/idempotency.go",
		Edits: []edit{{
			Old: "\tpending, err := c.isPending(ctx, h, match)\n\tif err != nil || pending {\n\t\treturn &rec.Hook, err\n\t}\n",
			New: "",
		}},
	},
	{
		Name: "M63-closed-by-any-task",
		Desc: "settle: \"the task's end is in the history\" (Closed) is true when any task of the execution ended, not the one of this token, so a closed answer whose end lags the history is requeued (needs faults.Tasks.Schedule: a task scheduled with no end yet)",
		File: "pkg/hooks/history.go",
		Edits: []edit{{
			Old: "out.Closed = slices.ContainsFunc(closed, func(ev sfntypes.HistoryEvent) bool { return scheduledBy(events, ev) == scheduled })",
			New: "out.Closed = len(closed) > 0",
		}},
	},
	{
		Name: "M64-requeue-keeps-lim",
		Desc: "requeue (a resume's record): dlv goes back by one but lim does not (invariant L broken: 3 pending under maxPending 2)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "aws.String(\"REMOVE #waiter, #inflight SET #dlv = :prev, #lim = if_not_exists(#lim, :nolim) - :one\"),\n\t\t\t\tExpressionAttributeNames: names(attrInflight, fID, attrDlv, attrWaiter, attrLim),",
			New: "aws.String(\"REMOVE #waiter, #inflight SET #dlv = :prev\"),\n\t\t\t\tExpressionAttributeNames: names(attrInflight, fID, attrDlv, attrWaiter),",
		}, {
			Old: "\":fid\": s(f.ID), \":seq\": n(seq), \":prev\": n(seq - 1),\n\t\t\t\t\t\":nolim\": n(noLim), \":one\": n(1),\n",
			New: "\":fid\": s(f.ID), \":seq\": n(seq), \":prev\": n(seq - 1),\n",
		}},
	},
	{
		Name: "M65-A1-superseded-not-failed",
		Desc: "A1 await: the waiter a newer await of the same hook replaced (Waiting(T) → Waiting(T2), T ≠ T2) is not failed with HookAwaitSupersededError (T waits until its timeout)",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "if prev != nil && prev.waiting() && prev.Waiter != in.TaskToken {",
			New: "if false && prev != nil && prev.waiting() && prev.Waiter != in.TaskToken {",
		}},
	},
	{
		Name: "M66-A1-no-own-delivery-term",
		Desc: "A1 await: condition without NOT (waiter = :tt AND attribute_exists(inflight)): a retried await (same task token) whose own delivery is in flight parks again and drops the record (REMOVE inflight) instead of resending it (resendOwn)",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\"(attribute_not_exists(#seq) OR #seq = #dlv) AND \" +\n\t\t\t\t\"NOT (#waiter = :tt AND attribute_exists(#inflight))\"),",
			New: "\"(attribute_not_exists(#seq) OR #seq = #dlv)\"),",
		}},
	},
	{
		Name: "M67-resendOwn-skipped",
		Desc: "A1 await: a retried await (same task token) whose own delivery is in flight returns at once instead of sending it again and finishing it (resendOwn)",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\t\t\treturn c.resendOwn(ctx, cur)\n",
			New: "\t\t\treturn nil\n",
		}},
	},
	{
		Name: "M68-takeover-running-holder",
		Desc: "takeOverEnded: the holder's execution status is not checked (only whether Step Functions could answer): a token held by a running execution is taken over (its hook disposed) instead of a conflict",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "if !known || running {",
			New: "if !known || (running && false) {",
		}},
	},
	{
		Name: "M69-A3-no-dlv-term",
		Desc: "A3 deliverBacklog: condition without dlv = :d (an await that read the oldest payload before another await delivered and committed it hands it out again)",
		File: "pkg/hooks/await.go",
		Edits: []edit{
			{Old: "aws.String(\"#hookId = :hid AND #dlv = :d AND (attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid)\")", New: "aws.String(\"#hookId = :hid AND (attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid)\")"},
			{Old: "{\"#hookId\": attrHookID, \"#dlv\": attrDlv, \"#waiter\": attrWaiter,", New: "{\"#hookId\": attrHookID, \"#waiter\": attrWaiter,"},
			{Old: "\":hid\": s(h.HookID), \":d\": n(h.Dlv), \":tt\": s(taskToken),", New: "\":hid\": s(h.HookID), \":tt\": s(taskToken),"},
		},
	},
	{
		Name: "M70-taskClosed-no-InvalidToken",
		Desc: "taskClosed: InvalidToken is not taken for a closed task (its answer is an unknown outcome: the payload is neither settled nor requeued)",
		File: "pkg/hooks/awserr.go",
		Edits: []edit{
			{Old: "\t\tinvalid  *sfntypes.InvalidToken\n", New: ""},
			{Old: " || errors.As(err, &invalid)", New: ""},
		},
	},
	{
		Name: "M71-no-settle-lag-wait",
		Desc: "send: a closed task whose end is not in the history yet is not looked for again (the 50 ms … 1.6 s settle-lag loop): a delivery whose history lags a moment is answered as an unknown outcome",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "wait <= settleLag; wait *= 2 {",
			New: "wait <= 0; wait *= 2 {",
		}},
	},
	{
		Name: "M72-execution-over-not-disposed",
		Desc: "finish: a send settled as \"execution over\" does not dispose the hook (the resume answers 404, but the hook of the ended execution stays and stores later resumes)",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "\tcase executionOver:\n\t\tif err := c.Dispose(ctx, h.Token, h.ExecutionARN); err != nil && !isConflict(err) {",
			New: "\tcase executionOver:\n\t\tif err := error(nil); err != nil && !isConflict(err) {",
		}},
	},
	{
		Name: "M73-release-unconditioned",
		Desc: "release (requeue of an undelivered hand-out of a stored payload): the condition inflight.id = :fid always holds, so a late release removes the waiter and hand-out of a newer await",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "aws.String(\"#inflight.#id = :fid\"),\n\t\tUpdateExpression:          aws.String(\"REMOVE #waiter, #inflight\"),",
			New: "aws.String(\"#inflight.#id = :fid OR attribute_exists(#inflight.#id) OR attribute_not_exists(#inflight.#id)\"),\n\t\tUpdateExpression:          aws.String(\"REMOVE #waiter, #inflight\"),",
		}},
	},
	{
		Name: "M74-A5-no-id-term",
		Desc: "A5 commit: condition without inflight.id = :fid (only the key term): a late commit of a hand-out commits another await's hand-out of the same stored payload",
		File: "pkg/hooks/delivery.go",
		// A stored payload's key gets a hand-out with another id only by
		// a take-over (A3 with :oid), which needs the history to show the
		// first hand-out's task ended without the payload. Its sender then
		// never commits: its send was answered closed and settled as not
		// delivered (a task completes once), and no settle can find it
		// delivered. So a commit that passes the key term names the
		// record in flight (survived pkg/hooks and e2e, issue 20).
		Equivalent: "inflight.key = :key implies inflight.id = :fid for any commit made",
		Edits: []edit{
			{Old: `aws.String("#inflight.#id = :fid AND #inflight.#key = :key")`, New: `aws.String("#inflight.#key = :key")`},
			{Old: `map[string]string{"#inflight": attrInflight, "#id": fID, "#dlv": attrDlv,`, New: `map[string]string{"#inflight": attrInflight, "#dlv": attrDlv,`},
			{Old: `":fid": s(f.ID), ":key": s(f.Key), ":one": n(1),`, New: `":key": s(f.Key), ":one": n(1),`},
		},
	},
	{
		Name: "M75-redrive-fresh-record",
		Desc: "redrive: the age guard (record older than minAge: RedriveAfter for a resume) is dropped: a resume that finds a delivery in flight sends it again at once, while its sender may still be sending",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "if f == nil || f.Redriven || h.Waiter == \"\" || c.opts.Now().Sub(f.At) < minAge {",
			New: "if f == nil || f.Redriven || h.Waiter == \"\" {",
		}},
	},
	{
		Name: "M76-redrive-sent-record",
		Desc: "redrive: the redriven guard is dropped: a record already known delivered (marked by a redrive, a replay or a commit) is sent again by every later resume",
		File: "pkg/hooks/delivery.go",
		Edits: []edit{{
			Old: "if f == nil || f.Redriven || h.Waiter == \"\" || c.opts.Now().Sub(f.At) < minAge {",
			New: "if f == nil || h.Waiter == \"\" || c.opts.Now().Sub(f.At) < minAge {",
		}},
	},
	{
		Name: "M77-aborted-not-ended",
		Desc: "settle (executionEnded): ExecutionAborted (StopExecution) is not an end of the execution: a stopped execution's closed task is taken for a task over, and its payload requeued to a hook no await will take",
		File: "pkg/hooks/history.go",
		Edits: []edit{{
			Old: "sfntypes.HistoryEventTypeExecutionAborted, sfntypes.HistoryEventTypeExecutionTimedOut:",
			New: "sfntypes.HistoryEventTypeExecutionTimedOut:",
		}},
	},
	{
		Name: "M78-history-one-page",
		Desc: "settle: only the first page of the history (1,000 events, newest first) is read, not up to maxHistoryPages: a task whose events are older is never found",
		File: "pkg/hooks/history.go",
		Edits: []edit{{
			Old: "const maxHistoryPages = 10",
			New: "const maxHistoryPages = 1",
		}},
	},
	{
		Name: "M79-I2-no-waiter-term",
		Desc: "I2 (keyed resume to a waiter): condition attribute_exists(waiter), not waiter = :w (the waiter I1 read): a keyed resume whose waiter was replaced since I1 sends to the old task and takes the new one's place",
		File: "pkg/hooks/idempotency.go",
		Edits: []edit{
			{Old: `vals := map[string]types.AttributeValue{":w": s(h.Waiter), ":hid": s(h.HookID),`, New: `vals := map[string]types.AttributeValue{":hid": s(h.HookID),`},
			{Old: `cond := "#waiter = :w AND attribute_not_exists(#inflight)`, New: `cond := "attribute_exists(#waiter) AND attribute_not_exists(#inflight)`},
		},
	},
	{
		Name: "M80-held-cap-ignored",
		Desc: "H1 hold: the held-caller cap term (held < maxHeld) always holds: a manual webhook holds any number of callers",
		File: "pkg/hooks/limits.go",
		Edits: []edit{{
			Old: `aws.String("#hookId = :hid AND (attribute_not_exists(#held) OR #held < #maxHeld)")`,
			New: `aws.String("#hookId = :hid AND (attribute_not_exists(#held) OR #held < #maxHeld OR attribute_exists(#held))")`,
		}},
	},
	{
		Name: "M81-held-count-never-reset",
		Desc: "H1 hold: a full count whose heldUntil has passed (leaked by killed Lambdas) is never reset: the webhook refuses callers for good",
		File: "pkg/hooks/limits.go",
		Edits: []edit{{
			Old: "if cur.HeldUntil >= c.opts.Now().UnixMilli() {",
			New: "if true || cur.HeldUntil >= c.opts.Now().UnixMilli() {",
		}},
	},
	{
		Name: "M82-link-claim-ignores-expiry",
		Desc: "L1 claimLink: the term validUntil > :now always holds: a link that expires between its read (L0) and its claim is used",
		File: "pkg/hooks/link.go",
		Edits: []edit{{
			Old: `aws.String("attribute_exists(#pk) AND #validUntil > :now AND " +`,
			New: `aws.String("attribute_exists(#pk) AND (#validUntil > :now OR attribute_exists(#validUntil)) AND " +`,
		}},
	},
	{
		Name: "M83-link-claim-ignores-state",
		Desc: "L1 claimLink: the state term (open or claimed) always holds: a link marked used between its read (L0) and its claim is claimed and resumed again",
		File: "pkg/hooks/link.go",
		Edits: []edit{{
			Old: `"(#state = :open OR #state = :claimed)"),`,
			New: `"(#state = :open OR #state = :claimed OR attribute_exists(#state))"),`,
		}},
	},
	{
		Name: "M84-sealed-key-mismatch-unchecked",
		Desc: "sealFor: a resume WithEncryptionKey(K) to a hook sealed with another key is not refused with ErrEncryptionKey (it seals with K; the writes' key term then refuses it until ErrContention)",
		File: "pkg/hooks/seal.go",
		Edits: []edit{{
			Old: "if h.KMSKeyID != \"\" && o.key != h.KMSKeyID {",
			New: "if false && h.KMSKeyID != \"\" && o.key != h.KMSKeyID {",
		}},
	},
	{
		Name:  "M85-standardwebhooks-no-delivery-id",
		Desc:  "checkStandardWebhooks: the delivery id (webhook-id header) is not returned: a provider's retry is resumed without an idempotency key (delivered twice)",
		File:  "pkg/hooks/verify.go",
		Edits: []edit{{Old: "\treturn id, nil\n", New: "\treturn \"\", nil\n"}},
	},
	{
		Name:  "M86-stripe-no-delivery-id",
		Desc:  "checkStripe: the delivery id (the event's \"id\" in the JSON body) is not returned: a provider's retry is resumed without an idempotency key",
		File:  "pkg/hooks/verify.go",
		Edits: []edit{{Old: `return jsonString(req.body, "id"), nil`, New: `return "", nil`}},
	},
	{
		Name:  "M87-github-no-delivery-id",
		Desc:  "checkGitHub: the delivery id (X-GitHub-Delivery header) is not returned: a redelivery is resumed without an idempotency key",
		File:  "pkg/hooks/verify.go",
		Edits: []edit{{Old: `return req.header.Get("X-GitHub-Delivery"), nil`, New: `return "", nil`}},
	},
	{
		Name:  "M88-slack-no-delivery-id",
		Desc:  "checkSlack: the delivery id (\"event_id\" in the JSON body) is not returned: a retry is resumed without an idempotency key",
		File:  "pkg/hooks/verify.go",
		Edits: []edit{{Old: `return jsonString(req.body, "event_id"), nil`, New: `return "", nil`}},
	},
	{
		Name:  "M89-hmac-no-delivery-id",
		Desc:  "checkHMAC: the delivery id (the scheme's idHeader, e.g. X-Shopify-Webhook-Id) is not returned: a retry is resumed without an idempotency key",
		File:  "pkg/hooks/verify.go",
		Edits: []edit{{Old: `return req.header.Get(v.IDHeader), nil`, New: `return "", nil`}},
	},
}
