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
		// Since invariant T (issue 20, defects 1 to 3) A3 also carries the
		// told term: an uncommitted hand-out belongs to a waiter that is
		// neither this await nor told, so A3 is refused by that term
		// whenever this one would refuse it. Killed before only by e2e
		// TestHotHook under load, which make mutate now reports as a flake.
		Equivalent: "A3's told term refuses every write this term refuses (invariant T)",
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
			Old: "\t\t// requeued) now; an error leaves it for the next resume.\n\t\t_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)\n",
			New: "\t\t// requeued) now; an error leaves it for the next resume.\n",
		}},
	},
	{
		Name: "M12-commit-before-send",
		Desc: "handOut (single and batch backlog awaits): A5 commit before A4 send (a crash or closed task between them loses the payload)",
		File: "pkg/hooks/await.go",
		Edits: []edit{{
			Old: "\th.Waiter, h.Inflight, h.Batch = taskToken, &f, int64(maxBatch)\n",
			New: "\th.Waiter, h.Inflight, h.Batch = taskToken, &f, int64(maxBatch)\n\tif err := c.commit(ctx, h, f); err != nil {\n\t\treturn false, err\n\t}\n",
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
	// Issue 20, defects 1 to 3 (docs/protocol.md, invariant T, "Telling a
	// dropped waiter"): each mutant undoes one part of the fix.
	{
		Name: "M40-dispose-tells-after-delete",
		Desc: "Dispose: deletes first, then fails the waiter its ALL_OLD names (the resend of a delete whose answer was lost, or a dispose retried after a crash, finds no item: the parked await waits for ever)",
		File: "pkg/hooks/lifecycle.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: `cond := "attribute_not_exists(#pk) OR (#executionArn = :exec AND " + toldCond(nm, vals, told)` + "\n",
			New: `cond := "attribute_not_exists(#pk) OR (#executionArn = :exec"` + "\n",
		}, {
			Old: "\t\t\th := decodeHook(out.Attributes)\n",
			New: "\t\t\th := decodeHook(out.Attributes)\n\t\t\tif w := h.untold(nil); w != \"\" {\n\t\t\t\t_ = c.sendFailure(ctx, w, ErrorNameDisposed, \"hook \"+Redact(token)+\" was disposed\")\n\t\t\t}\n",
		}},
	},
	{
		Name: "M41-A1-tells-after-write",
		Desc: "A1: replaces the waiter, then fails the one its ALL_OLD names (a resent or retried A1 sees itself: the superseded await waits for ever)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t_, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{\n\t\t\tTableName: &c.table,\n\t\t\tKey:       hookKey(in.Token),\n",
			New: "\t\tout, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{\n\t\t\tReturnValues: types.ReturnValueAllOld,\n\t\t\tTableName:    &c.table,\n\t\t\tKey:          hookKey(in.Token),\n",
		}, {
			Old: "\"NOT (#waiter = :tt AND attribute_exists(#inflight)) AND \" + toldCond(nm, vals, told) + in.dataCond(nm, vals)),",
			New: "\"NOT (#waiter = :tt AND attribute_exists(#inflight))\" + in.dataCond(nm, vals)),",
		}, {
			Old: "\t\tif err == nil {\n\t\t\treturn nil\n\t\t}\n\t\tif transactionConflict(err) {\n\t\t\tcontinue // a transaction (an append, a commit) held the hook item\n",
			New: "\t\tif err == nil {\n\t\t\tif w := decodeHook(out.Attributes).untold(told); w != \"\" {\n\t\t\t\t_ = c.sendFailure(ctx, w, ErrorNameSuperseded, supersededCause(in.Token))\n\t\t\t}\n\t\t\treturn nil\n\t\t}\n\t\tif transactionConflict(err) {\n\t\t\tcontinue // a transaction (an append, a commit) held the hook item\n",
		}},
	},
	{
		Name: "M42-A1-drops-unsent-delivery",
		Desc: "A1: a delivery in flight to another await counts as consumed (a concurrent await whose resume's send failed is dropped untold and waits for ever)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\"NOT (#waiter = :tt AND attribute_exists(#inflight)) AND \" + toldCond(nm, vals, told) + in.dataCond(nm, vals)),",
			New: "\"NOT (#waiter = :tt AND attribute_exists(#inflight)) AND (attribute_exists(#inflight) OR \" + toldCond(nm, vals, told) + \")\" + in.dataCond(nm, vals)),",
		}},
	},
	{
		Name: "M43-A3-drops-unsent-delivery",
		Desc: "A3: replaces a resume's delivery to another await without telling it (a concurrent await whose send failed waits for ever once a payload is stored behind it)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "#inflight.#id = :oid) AND \" +\n\t\t\t\ttoldCond(nm, vals, told)),",
			New: "#inflight.#id = :oid) AND (attribute_exists(#inflight) OR \" +\n\t\t\t\ttoldCond(nm, vals, told) + \")\"),",
		}},
	},
	{
		Name: "M44-dispose-tells-parked-only",
		Desc: "Dispose: fails only a parked await (an await whose resume's send failed is deleted with the hook and waits for ever)",
		File: "pkg/hooks/lifecycle.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: `cond := "attribute_not_exists(#pk) OR (#executionArn = :exec AND " + toldCond(nm, vals, told)` + "\n",
			New: `cond := "attribute_not_exists(#pk) OR (#executionArn = :exec AND (attribute_exists(#inflight) OR " + toldCond(nm, vals, told) + ")"` + "\n",
		}},
	},
	// Issue 20, defects 4, 5, 6, 10 and 11 (fix-b): M45 to M52.
	{
		Name: "M45-history-any-end-is-ended",
		Desc: "settle: any execution-end event in the history makes the execution over, not only the newest status event (a redriven execution is disposed; issue 20 defect 11)",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tout.Ended = executionEnded(status.Type)\n",
			New: "\tout.Ended = lastEnd >= 0\n",
		}},
	},
	{
		Name: "M46-history-end-does-not-close-task",
		Desc: "settle: an execution end after the task was scheduled does not prove the task over (a task the end closed stays unsettled in a redriven execution; issue 20 defect 11)",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "out.Closed = lastEnd > scheduled || slices.ContainsFunc(closed,",
			New: "out.Closed = slices.ContainsFunc(closed,",
		}},
	},
	{
		Name: "M47-history-not-found-is-open",
		Desc: "settle: a task not within the history pages read is taken as still open (a stale hand-out answers ContentionError for ever, a send stays unsettled; issue 20 defect 10)",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tcase truncated:\n\t\t// Not within the pages read: taken as ended without the payload\n\t\t// (docs/protocol.md, \"Delivery\"): kept, never stuck.\n\t\tout.Closed = true\n",
			New: "\tcase truncated:\n\t\tout.Closed = false\n",
		}},
	},
	{
		Name: "M48-keyed-resume-no-redrive",
		Desc: "resumeIdempotent: a Delivering record older than RedriveAfter is not redriven before the keyed payload is stored (the waiting task never gets it; issue 20 defect 6)",
		File: "pkg/hooks/idempotency.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)\n\t\t\tok, err := c.appendPayload(ctx, h, kind, o, put)\n",
			New: "\t\t\tok, err := c.appendPayload(ctx, h, kind, o, put)\n",
		}},
	},
	{
		Name: "M49-requeue-conflict-restores",
		Desc: "requeue: every canceled transaction is taken for a replaced record, a TransactionConflict too (the payload is stored anew beside the record still in flight, whose redrive requeues it again; issue 20 defect 4)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\tcase conditionCanceled(codes, 0):\n\t\t\t// A newer await replaced the record (presumed it consumed).\n\t\t\treturn c.restore(",
			New: "\t\tdefault:\n\t\t\treturn c.restore(",
		}},
	},
	{
		Name: "M50-requeue-no-marker",
		Desc: "requeue: the transaction writes no BACK# requeue marker (a second requeuer of a delivery already requeued and handed out stores it again; issue 20 defect 4)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t{Put: c.requeueMark(h, f.ID)},\n",
			New: "",
		}},
	},
	{
		Name: "M51-settle-any-task-output",
		Desc: "settle: any task's end that carries the same payload counts as delivered, not only the end of the task it was handed to (a keyed replay is confirmed by another task's identical output, its payload lost; issue 20 defect 5)",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "out.Delivered = slices.ContainsFunc(carried, func(ev sfntypes.HistoryEvent) bool { return scheduledBy(events, ev) == scheduled })",
			New: "out.Delivered = len(carried) > 0",
		}},
	},
	{
		Name: "M52-restore-no-marker",
		Desc: "restore: the payload of a replaced record is put back without the BACK# requeue marker (two requeuers, or a requeuer and a keyed replay, each put it back; issue 20 defects 4 and 5)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\tmark := c.requeueMark(h, id)\n",
			New: "",
		}, {
			Old: "ok, err := c.appendPayload(ctx, h, \"\", o, mark)",
			New: "ok, err := c.appendPayload(ctx, h, \"\", o, nil)",
		}, {
			Old: "\t\tmark.Item[attrDelivery] = s(f.ID)\n\t\tmark.Item[attrTask] = s(h.Waiter)\n",
			New: "",
		}, {
			Old: "\t\t\t\t{Put: mark},\n",
			New: "",
		}},
	},
	// Issue 20, defects 7, 8, 9 and 12 (M53–M58).
	{
		Name: "M53-link-key-forgotten-after-24h",
		Desc: "L2 UseLink: the link's idempotency record expires after IdempotencyTTL, not with the link (a claimed link whose L3 was lost resumes the hook again a day later)",
		File: "pkg/hooks/link.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tlc := c.withIdempotencyTTL(l.ExpiresAt.Add(LinkRetention).Sub(c.opts.Now()))\n",
			New: "\tlc := c\n",
		}},
	},
	{
		Name: "M54-link-group-expires-with-claimant",
		Desc: "L1 claimLink: the group item expires with the claiming link's life + 7 days (a sibling valid longer claims the group again and resumes the hook a second time)",
		File: "pkg/hooks/link.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\":id\": s(l.ID), \":ttl\": n(c.groupExpiry(l, now)),",
			New: "\":id\": s(l.ID), \":ttl\": n(l.ExpiresAt.Add(LinkRetention).Unix()),",
		}},
	},
	{
		Name: "M55-link-outlives-its-hook",
		Desc: "CreateLink: a link's validity is not bounded by its hook's TTL (a link created late in a group outlives the group item)",
		File: "pkg/hooks/link.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tif h.ExpiresAt > 0 && l.ExpiresAt.Unix() > h.ExpiresAt {\n",
			New: "\tif false && h.ExpiresAt > 0 && l.ExpiresAt.Unix() > h.ExpiresAt {\n",
		}},
	},
	{
		Name: "M56-held-leak-ends-with-latest-caller",
		Desc: "H1 hold: held callers are taken for leaked only once every one is past its time, as with the old heldUntil (a leaked count never ends under steady traffic)",
		File: "pkg/hooks/limits.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tvar stale []string\n\tfor id, until := range h.Holders {\n",
			New: "\tvar stale []string\n\tfor _, until := range h.Holders {\n\t\tif until >= nowMs {\n\t\t\treturn nil\n\t\t}\n\t}\n\tfor id, until := range h.Holders {\n",
		}},
	},
	{
		Name: "M57-hook-data-unbounded-as-stored",
		Desc: "Register/A1: no data term (each create or await sets the data attributes it gives and the item lacks: three 60 KB requests store 180 KB, and a large payload in flight passes 400 KB)",
		File: "pkg/hooks/item.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tg := in.given()\n\tif len(g) == 0 {\n\t\treturn \"\"\n\t}\n\tfor _, a := range hookData {\n\t\tnm[",
			New: "\tg := in.given()\n\tif true {\n\t\treturn \"\"\n\t}\n\tfor _, a := range hookData {\n\t\tnm[",
		}},
	},
	{
		Name: "M58-hook-data-added-unchecked",
		Desc: "fitData: data added to a hook's stored data is not summed with it (a later create or await pins and adds 60 KB to 60 KB)",
		File: "pkg/hooks/item.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tif size > MaxHookDataBytes {\n",
			New: "\tif false && size > MaxHookDataBytes {\n",
		}},
	},
	// Issue 21 (security, second round): MX1-MX10.
	{
		Name: "MX1-replay-key-from-unsigned-delivery-id",
		Desc: "verify: github's unsigned X-GitHub-Delivery is the request's key again (a captured request replayed with a new id is stored again)",
		File: "pkg/hooks/verify.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\treturn verified{mac: mac}, nil\n",
			New: "\treturn verified{id: req.header.Get(\"X-GitHub-Delivery\"), mac: mac}, nil\n",
		}},
	},
	{
		Name: "MX2-signature-headers-to-workflow",
		Desc: "verify: the signature headers reach the workflow (the stored request is a replayable credential)",
		File: "pkg/hooks/webhook.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\tf = f.dropping(signatureHeaders(h.Verify)...)\n",
			New: "\t\t_ = signatureHeaders(h.Verify)\n",
		}},
	},
	{
		Name: "MX3-weak-signing-key-used",
		Desc: "verify: a signing key under 16 bytes (whsec_: the empty key) is used to verify",
		File: "pkg/hooks/verify.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tcase len(key) < MinSigningKeyBytes:\n",
			New: "\tcase len(key) < 0:\n",
		}},
	},
	{
		Name: "MX4-respond-any-execution",
		Desc: "respond: the condition check of the execution that holds the webhook is always true (any execution answers any held caller)",
		File: "pkg/hooks/webhook.go",
		Pkgs: []string{"./e2e/"},
		Edits: []edit{{
			Old: "\t\t\tConditionExpression:                 aws.String(\"#executionArn = :exec\"),\n\t\t\tExpressionAttributeNames:            names(attrExec),\n\t\t\tExpressionAttributeValues:           map[string]types.AttributeValue{\":exec\": s(executionARN)},\n",
			New: "\t\t\tConditionExpression:                 aws.String(\"attribute_exists(#pk) OR attribute_not_exists(#pk)\"),\n\t\t\tExpressionAttributeNames:            names(attrPK),\n",
		}},
	},
	{
		Name: "MX5-link-for-another-execution",
		Desc: "CreateLink: the hook's holder is not compared with the execution making the link (a public link to another execution's hook)",
		File: "pkg/hooks/link.go",
		Pkgs: []string{"./e2e/"},
		Edits: []edit{{
			Old: "\tif h.ExecutionARN != in.ExecutionARN {\n",
			New: "\tif false && h.ExecutionARN != in.ExecutionARN {\n",
		}},
	},
	{
		Name: "MX6-token-in-kms-context",
		Desc: "seal: the hook token goes into the KMS encryption context again (CloudTrail logs it in clear)",
		File: "pkg/hooks/seal.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tif v == 1 {\n\t\tm[\"token\"] = sc.Token\n\t}\n",
			New: "\tm[\"token\"] = sc.Token\n",
		}},
	},
	{
		Name: "MX7-unsigned-answered-401",
		Desc: "verify: a request without a signature is answered 401 (the route confirms the token exists)",
		File: "pkg/hooks/webhook.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t// the token exists.\n\t\treturn nil, ErrHookNotFound\n",
			New: "\t\t// the token exists.\n\t\treturn nil, invalidSignature(\"missing %s header\", name)\n",
		}},
	},
	{
		Name: "MX8-sealed-delivery-hash-unkeyed",
		Desc: "verify: a sealed webhook's delivery record keeps the unkeyed sha256 of the body",
		File: "pkg/hooks/webhook.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tif h.KMSKeyID != \"\" {\n\t\t// A sealed webhook: the record",
			New: "\tif false {\n\t\t// A sealed webhook: the record",
		}},
	},
	{
		Name: "MX9-schema-error-echoes-values",
		Desc: "schema: a violation's error repeats the payload's values",
		File: "pkg/hooks/jsonschema.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "Error: failedKeyword(v.KeywordLocation)})",
			New: "Error: fmt.Sprintf(\"%v %s\", inst, failedKeyword(v.KeywordLocation))})",
		}},
	},
	{
		Name: "MX10-credential-headers-kept",
		Desc: "webhook: headers that name credentials (x-api-key, *token*, *secret*) reach the workflow",
		File: "pkg/hooks/webhook.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\treturn CredentialHeader(name)\n}",
			New: "\treturn false\n}",
		}},
	},
	// The adversarial review of issue 20 (D5): a settlement that stops at 10
	// pages takes a delivered payload for undelivered and hands it out again.
	{
		Name: "M59-history-ten-pages",
		Desc: "settle: read at most 10 history pages (10,000 events), not the whole history: a delivery to a task further back is requeued and received twice",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "const maxHistoryPages = 100",
			New: "const maxHistoryPages = 10",
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
		Name: "M63-closed-by-any-task",
		Desc: "settle: \"the task's end is in the history\" (Closed) is true when any task of the execution ended, not the one of this token, so a closed answer whose end lags the history is requeued (needs faults.Tasks.Schedule: a task scheduled with no end yet)",
		File: "pkg/hooks/history.go",
		Edits: []edit{
			{Old: "out.Closed = lastEnd > scheduled || slices.ContainsFunc(closed, func(ev sfntypes.HistoryEvent) bool { return scheduledBy(events, ev) == scheduled })", New: "out.Closed = lastEnd > scheduled || len(closed) > 0"},
		},
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
		Edits: []edit{
			{Old: "if err := c.tell(ctx, w, ErrorNameSuperseded, supersededCause(in.Token)); err != nil {\n\t\t\t\t\treturn err\n\t\t\t\t}\n\t\t\t\ttold = append(told, w)", New: "told = append(told, w)"},
		},
	},
	{
		Name: "M66-A1-no-own-delivery-term",
		Desc: "A1 await: condition without NOT (waiter = :tt AND attribute_exists(inflight)): a retried await (same task token) whose own delivery is in flight parks again and drops the record (REMOVE inflight) instead of resending it (resendOwn)",
		File: "pkg/hooks/await.go",
		Edits: []edit{
			{Old: "\"NOT (#waiter = :tt AND attribute_exists(#inflight)) AND \" + toldCond(nm, vals, told) + in.dataCond(nm, vals)),", New: "toldCond(nm, vals, told) + in.dataCond(nm, vals)),"},
		},
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
			{Old: "aws.String(\"#hookId = :hid AND #dlv = :d AND (attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid) AND \" +", New: "aws.String(\"#hookId = :hid AND (attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid) AND \" +"},
			{Old: "nm := map[string]string{\"#hookId\": attrHookID, \"#dlv\": attrDlv, \"#waiter\": attrWaiter,", New: "nm := map[string]string{\"#hookId\": attrHookID, \"#waiter\": attrWaiter,"},
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
		Edits: []edit{
			{Old: "\"(attribute_not_exists(#held) OR #held < #maxHeld)\"),", New: "\"(attribute_not_exists(#held) OR #held < #maxHeld OR attribute_exists(#held))\"),"},
		},
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
		Name: "M85-standardwebhooks-no-delivery-id",
		Desc: "checkStandardWebhooks: the delivery id (webhook-id header) is not returned: a provider's retry is resumed without an idempotency key (delivered twice)",
		File: "pkg/hooks/verify.go",
		Edits: []edit{
			{Old: "return verified{id: id, mac: mac, timed: true}, nil", New: "return verified{mac: mac, timed: true}, nil"},
		},
	},
	{
		Name: "M86-stripe-no-delivery-id",
		Desc: "checkStripe: the delivery id (the event's \"id\" in the JSON body) is not returned: a provider's retry is resumed without an idempotency key",
		File: "pkg/hooks/verify.go",
		Edits: []edit{
			{Old: "return verified{id: jsonString(req.body, \"id\"), mac: mac, timed: true}, nil", New: "return verified{mac: mac, timed: true}, nil"},
		},
	},
	{
		Name: "M88-slack-no-delivery-id",
		Desc: "checkSlack: the delivery id (\"event_id\" in the JSON body) is not returned: a retry is resumed without an idempotency key",
		File: "pkg/hooks/verify.go",
		Edits: []edit{
			{Old: "return verified{id: jsonString(req.body, \"event_id\"), mac: mac, timed: true}, nil", New: "return verified{mac: mac, timed: true}, nil"},
		},
	},
	{
		Name: "M90-transact-no-token",
		Desc: "transact: no ClientRequestToken: S1's resend after a lost answer applies again once an await committed the first copy",
		File: "pkg/hooks/transact.go",
		Pkgs: []string{"./internal/testbench/sim/", "./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tin.ClientRequestToken = aws.String(c.requestToken())\n",
			New: "\tif false {\n\t\tin.ClientRequestToken = aws.String(c.requestToken())\n\t}\n",
		}},
	},
	{
		Name: "M91-append-own-msg-not-applied",
		Desc: "S1 appendPayload: a resend canceled on its own MSG put is taken for contention (stored again from R1)",
		File: "pkg/hooks/resume.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\tif conditionCanceled(codes, 1) {\n\t\t\t// MSG#key exists",
			New: "\t\tif false && conditionCanceled(codes, 1) {\n\t\t\t// MSG#key exists",
		}},
	},
	{
		Name: "M92-restore-mark-names-nothing",
		Desc: "restore into a parked await: the marker does not name the new delivery (a replay takes it for a stored payload)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\tmark.Item[attrDelivery] = s(f.ID)\n\t\tmark.Item[attrTask] = s(h.Waiter)\n",
			New: "",
		}},
	},
	{
		Name: "M93-restored-delivery-not-restored-again",
		Desc: "followMark: a restored delivery whose task ended without the payload counts as done (not restored again)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t}\n\treturn d, nil\n}",
			New: "\t}\n\treturn \"\", nil\n}",
		}},
	},
	{
		Name: "M94-requeue-marker-taken-as-requeued",
		Desc: "requeue: canceled on the marker alone counts as requeued already (a restore's unsent delivery is not followed)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\tcase conditionCanceled(codes, 1):\n\t\t\t// Requeued already by another requeuer",
			New: "\t\tcase conditionCanceled(codes, 1) || conditionCanceled(codes, 2):\n\t\t\t// Requeued already by another requeuer",
		}},
	},
	// Review fixes (revfix-b): D1, D3, D4 of the adversarial review.
	{
		Name: "M95-full-hook-no-redrive",
		Desc: "resume: a full hook answers 429 without redriving a dead delivery first (its await waits for ever behind the full queue)",
		File: "pkg/hooks/resume.go",
		Pkgs: []string{"./internal/testbench/sim/", "./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t// behind it stays full).\n\t\t\t_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)\n",
			New: "\t\t\t// behind it stays full).\n",
		}},
	},
	{
		Name: "M96-full-hook-keyed-no-redrive",
		Desc: "resumeIdempotent: a new key on a full hook answers 429 without redriving a dead delivery first",
		File: "pkg/hooks/idempotency.go",
		Pkgs: []string{"./internal/testbench/sim/", "./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t\t\t// full behind it would never drain.\n\t\t\t\t\t_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)\n",
			New: "\t\t\t\t\t// full behind it would never drain.\n",
		}},
	},
	{
		Name: "M97-dispose-execution-unasked",
		Desc: "DisposeExecution: disposes on the end event without asking whether the execution runs again (redriven since)",
		File: "pkg/hooks/lifecycle.go",
		Pkgs: []string{"./internal/testbench/sim/", "./pkg/hooks/", "./e2e/"},
		Edits: []edit{{
			Old: "if ok, err := ended(ctx); err != nil || !ok {",
			New: "if ok, err := ended(ctx); err != nil || (false && !ok) {",
		}},
	},
	{
		Name: "M98-dispose-execution-unpinned",
		Desc: "dispose: DisposeExecution's (and the take-over's) delete is not pinned to the hook as read before Step Functions said the execution ended (a redrive in between loses what the new run had)",
		File: "pkg/hooks/lifecycle.go",
		Pkgs: []string{"./internal/testbench/sim/", "./pkg/hooks/", "./e2e/"},
		Edits: []edit{{
			Old: "\t\tif pin != nil {\n\t\t\tcond += \" AND \" + pinCond(nm, vals, pin)",
			New: "\t\tif false && pin != nil {\n\t\t\tcond += \" AND \" + pinCond(nm, vals, pin)",
		}},
	},
	{
		Name: "M99-await-supersedes-from-closed-task",
		Desc: "await: A1 refused on a waiter it did not see supersedes it without checking that its own task is still open (a stale resend fails the live await)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./internal/testbench/sim/", "./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t\topen, err := c.taskOpen(ctx, in.TaskToken)\n\t\t\t\tif err != nil {\n\t\t\t\t\treturn err\n\t\t\t\t}\n\t\t\t\tif !open {\n\t\t\t\t\treturn nil\n\t\t\t\t}\n",
			New: "",
		}},
	},
	// The campaign after the fixes (seed 1439): a token retried by Step
	// Functions has a TaskScheduled per attempt; the settlement must take
	// the newest.
	{
		Name: "M100-settle-first-attempt",
		Desc: "settle: the token's oldest TaskScheduled (a failed attempt of a task retried with the same token) is taken for its task: a delivery to the current attempt is settled as not delivered, requeued and received twice",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "ev.TaskScheduledEventDetails != nil && ev.Id > scheduled &&",
			New: "ev.TaskScheduledEventDetails != nil &&",
		}},
	},
	// Issue 24: listing a state machine's hooks (pkg/hooks/list_sm.go) and tags.
	{
		Name: "MO1-list-no-shard-bound",
		Desc: "ListStateMachineHooks: the merged page is not cut at the least advanced shard's frontier (hooks of a shard read less far are skipped or listed out of age order)",
		File: "pkg/hooks/list_sm.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tif bounded {\n\t\tk := 0",
			New: "\tif false && bounded {\n\t\tk := 0",
		}},
	},
	{
		Name: "MO2-list-cursor-inclusive",
		Desc: "ListStateMachineHooks: the next page starts at the cursor's sort key instead of after it (the last hook of a page is listed again)",
		File: "pkg/hooks/list_sm.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\t\t\top := \">\"\n\t\t\t\tif newest {\n\t\t\t\t\top = \"<\"\n",
			New: "\t\t\t\top := \">=\"\n\t\t\t\tif newest {\n\t\t\t\t\top = \"<=\"\n",
		}},
	},
	{
		Name: "MO3-idle-includes-pending",
		Desc: "state idle: a hook with payloads pending counts as idle",
		File: "pkg/hooks/list_sm.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\treturn !st.Waiting && st.Pending <= 0",
			New: "\t\treturn !st.Waiting",
		}},
	},
	{
		Name: "MO4-tag-length-unchecked",
		Desc: "ValidateTags: a tag over MaxTagBytes is accepted (the item-size accounting no longer holds)",
		File: "pkg/hooks/list_sm.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tcase len(t) > MaxTagBytes:",
			New: "\tcase false && len(t) > MaxTagBytes:",
		}},
	},
	{
		Name: "MO5-tags-overwritten",
		Desc: "register/A1: a later create or await's tags replace the hook's (and rewrite the index entry every time)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\tset += \", #tags = if_not_exists(#tags, :tags)\"",
			New: "\t\tset += \", #tags = :tags\"",
		}},
	},
	{
		Name: "MO6-one-shard",
		Desc: "smShard: every hook of a state machine in shard 00 (one index partition: a burst of creates is throttled)",
		File: "pkg/hooks/list_sm.go",
		Pkgs: []string{"./internal/testbench/awsmodel/"},
		Edits: []edit{{
			Old: "\treturn int(h.Sum32() % ListShards)",
			New: "\treturn int(h.Sum32() % 1)",
		}},
	},
	{
		Name: "MO7-list-page-unbounded",
		Desc: "ListStateMachineHooks: a page is not cut at MaxListPageBytes (50 hooks of big metadata are a Lambda response past 6 MB: a 502)",
		File: "pkg/hooks/list_sm.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\tif n := fitPage(out.Hooks); n < len(out.Hooks) {\n",
			New: "\tif n := fitPage(out.Hooks); false && n < len(out.Hooks) {\n",
		}},
	},
	{
		Name: "MO8-dispose-ignores-hook-id",
		Desc: "DisposeHook: IfHookID sets no condition (an operator's dispose deletes the hook its execution created again since the operator looked)",
		File: "pkg/hooks/lifecycle.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\tif hookID != \"\" {\n\t\t\tnm[\"#hookId\"] = attrHookID\n",
			New: "\t\tif false && hookID != \"\" {\n\t\t\tnm[\"#hookId\"] = attrHookID\n",
		}},
	},
	// Issue 22 (i22b): waiting tells the truth after an await's timeout.
	{
		Name: "MF1-waiting-ignores-timeout",
		Desc: "get/list: a parked await whose task's timeout (waitUntil) has passed is still reported waiting",
		File: "pkg/hooks/item.go",
		Pkgs: []string{"./pkg/hooks/"},
		Edits: []edit{{
			Old: "\t\tst.Waiting = now.Before(until)",
			New: "\t\tst.Waiting = st.Waiting || now.Before(until)",
		}},
	},
	// Batch awaits (issue 25): the batch's commit, its order, its size
	// bound, its settlement and its shape.
	{
		Name: "MB1-batch-commit-first-only",
		Desc: "batch A5: the commit counts the whole batch delivered but deletes only its first stored payload (the others are handed out again)",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tfor _, k := range keys {\n\t\titems = append(items, types.TransactWriteItem{Delete:",
			New: "\tfor _, k := range keys[:1] {\n\t\titems = append(items, types.TransactWriteItem{Delete:",
		}},
	},
	{
		Name: "MB2-batch-newest-first",
		Desc: "batch A2: the batch is read newest first (FIFO broken across and within batches)",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tq.Limit = aws.Int32(int32(min(in.MaxBatch, MaxBatchItems)))\n",
			New: "\tq.Limit = aws.Int32(int32(min(in.MaxBatch, MaxBatchItems)))\n\tq.ScanIndexForward = aws.Bool(false)\n",
		}},
	},
	{
		Name: "MB3-batch-size-without-envelope",
		Desc: "batchFits: the size bound leaves out the envelope {\"items\":[ ]} (a batch may pass Step Functions' 256 KiB by 12 bytes)",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tsize := len(batchOpen) + len(batchClose)\n",
			New: "\tsize := 0\n",
		}},
	},
	{
		Name: "MB4-batch-commit-counts-one",
		Desc: "batch A5: the commit deletes every payload of the batch but counts one delivered (dlv and lim + 1): the pending count never comes back to 0",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\":cnt\": n(int64(len(keys))),",
			New: "\":cnt\": n(1),",
		}},
	},
	{
		Name: "MB5-batch-settle-first-item",
		Desc: "payloadOf: a batch hand-out is rebuilt from its first payload alone, so the history never shows it delivered (a batch that reached its task is handed out again)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\treturn batchWire(ps), true, nil\n",
			New: "\t\treturn batchWire(ps[:1]), true, nil\n",
		}},
	},
	{
		Name: "MB6-batch-parked-gets-bare-payload",
		Desc: "send: a resume's payload to a parked batch await is sent as it is, not as a batch of one",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tif h.Batch == 0 || h.Inflight.stored() || isRejection(slot) {",
			New: "\tif true || h.Batch == 0 || h.Inflight.stored() || isRejection(slot) {",
		}},
	},
	{
		Name: "MB7-batch-rejection-inside",
		Desc: "batchFits: a batch does not end before a rejection (it goes into the envelope instead of failing the task alone)",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\tif n == MaxBatchItems || isRejection(p) {",
			New: "\t\tif n == MaxBatchItems {",
		}},
	},
	{
		Name: "MB8-batch-of-100",
		Desc: "a batch holds 100 payloads: its commit is a transaction of 101 items, which DynamoDB refuses",
		File: "pkg/hooks/batch.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tMaxBatchItems = 99\n",
			New: "\tMaxBatchItems = 100\n",
		}},
	},
	{
		Name: "MB9-batch-wire-not-recognised",
		Desc: "carriedBy: a payload sent to a batch await as a batch of one is not recognised in the history (a keyed replay, a requeue or a restore puts a delivered payload back)",
		File: "pkg/hooks/history.go",
		Pkgs: []string{"./pkg/hooks/", "./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tone := envelope([]string{want})\n",
			New: "\tone := want\n",
		}},
	},
	// The adversarial review of batch awaits (issue 25) found the backlog
	// path of single and batch awaits unguarded against a stale A1 resend.
	{
		Name: "M101-backlog-without-own-task-check",
		Desc: "await, payloads pending: A3 hands them out without A1b (its own task still open): a stale A1 resend hands a stored payload to its closed task, settled as delivered by an earlier identical output (lost), or tells the live await superseded",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\t\tif !open {\n\t\t\t\treturn nil\n\t\t\t}\n\t\t\tvar done bool\n",
			New: "\t\t\t_ = open\n\t\t\tvar done bool\n",
		}},
	},
	// Issue 25's last campaign (seed 1513): a too-large payload's failure
	// to a closed batch task was taken as "task over" without the history.
	{
		Name: "M102-too-large-closed-task-unsettled",
		Desc: "send: a payload too large for a batch, whose SendTaskFailure finds the task closed, is requeued without asking the history (an ended execution's hook stores it: acknowledged, never received)",
		File: "pkg/hooks/delivery.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\t\tif !taskClosed(err) {\n\t\t\treturn 0, fmt.Errorf(\"send task failure: %w\", err)\n\t\t}\n",
			New: "\t\tif !taskClosed(err) {\n\t\t\treturn 0, fmt.Errorf(\"send task failure: %w\", err)\n\t\t}\n\t\treturn taskOver, nil\n",
		}},
	},
	// The review of issue 25: an await's later A1 re-created a hook its
	// execution's end event had deleted (a hook of an ended execution that
	// acknowledged a resume nobody receives).
	{
		Name: "M103-A1-recreates-gone-hook",
		Desc: "await: an A1 after one that found the hook may create the item again (a hook deleted meanwhile by its execution's end event comes back, with a closed task as waiter)",
		File: "pkg/hooks/await.go",
		Pkgs: []string{"./internal/testbench/sim/"},
		Edits: []edit{{
			Old: "\tif seen {\n\t\treturn \"attribute_exists(#pk) AND #executionArn = :exec AND \"\n\t}\n",
			New: "",
		}},
	},
}
