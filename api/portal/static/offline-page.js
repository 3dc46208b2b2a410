/* Xietong auditor portal: a proof bundle (xietong-proof/3) checked offline, in this browser.
 * The verifier is offline-proof.js (built from hardhat-node/offline/, docs/OFFLINE_PROOFS.md);
 * the consortium trust file is the one the page embeds (#consortium-trust, as
 * GET /v1/consortium answers it) unless the reader chooses another. Nothing is sent anywhere:
 * the check works with the network cut. Answers are built with DOM nodes and textContent only
 * (never innerHTML), with the helpers portal.js exports as window.xietongPortal. */
(function () {
  "use strict";

  var section = document.getElementById("offline-app");
  var P = window.xietongPortal;
  var V = window.XietongOffline;
  if (!section || !P || !V) return;
  var S = P.S, el = P.el, fmt = P.fmt, hex = P.hex;
  var bundleInput = document.getElementById("offline-bundle");
  var trustInput = document.getElementById("offline-trust-file");
  var dropzone = document.getElementById("offline-dropzone");
  var status = document.getElementById("offline-trust-status");
  var result = document.getElementById("offline-result");
  var trust = null; // the trust file in use (checked), or null
  var lastBundle = null; // checked again when another trust file is chosen

  /* ------------------------------------------------------------ the trust file */

  function signerCount(data) {
    return data.clique ? data.clique.signers.length : 0;
  }

  // Which trust file is in use, and whether it can check a sealed bundle at all.
  function describeTrust(data, name) {
    if (!data.clique) return S.offline_trust_no_signers;
    var values = { name: name, chain: String(data.chain_id), signers: signerCount(data), fingerprint: data.fingerprint || "—" };
    return fmt(name === null ? S.offline_trust_gateway : S.offline_trust_file, values);
  }

  // A trust file's text: used when it is a valid one (as ledger/trust.py reads it), else the
  // one in use stays and the reason is said.
  function useTrust(text, name) {
    var read = V.readTrustText(text);
    if (read.problem) {
      status.textContent = fmt(S.offline_trust_refused, { name: name || "—", problem: read.problem });
      return false;
    }
    trust = read.trust;
    // The fingerprint shown is the file's content's, whether or not the file wrote it.
    if (!trust.fingerprint) trust = Object.assign({}, trust, { fingerprint: V.trustFingerprint(trust) });
    status.textContent = describeTrust(trust, name);
    return true;
  }

  function embeddedTrust() {
    var text = document.getElementById("consortium-trust").textContent;
    if (text.trim() === "null") {
      status.textContent = S.offline_trust_none;
      return;
    }
    useTrust(text, null);
  }

  /* ------------------------------------------------------------ answers */

  function fact(label, value) {
    return el("div", {}, [el("dt", { text: label }), el("dd", {}, Array.isArray(value) ? value : [value])]);
  }

  // A signer: its department's code (from the trust file) and its address.
  function signer(s) {
    if (!s.code) return el("span", { className: "signer", "data-address": s.address }, [hex(s.address, 8), " (" + S.offline_unknown_key + ")"]);
    return el("span", { className: "signer", "data-address": s.address, "data-code": s.code }, [el("strong", { text: s.code }), " ", hex(s.address, 8)]);
  }

  function signerList(list) {
    if (!list.length) return el("span", { className: "muted", text: "—" });
    var items = [];
    list.forEach(function (s, i) {
      if (i) items.push(", ");
      items.push(signer(s));
    });
    return el("span", {}, items);
  }

  // The bundle's cosigned checkpoint (docs/CHECKPOINTS.md): its block and hash, and the
  // departments whose keys cosigned it; or that the bundle has none, or that the trust file
  // names no cosigners, so it was not checked.
  function checkpointFacts(report) {
    var checkpoint = report.checkpoint;
    if (!checkpoint) {
      var unchecked = (report.unchecked || []).indexOf(V.NO_COSIGNERS) >= 0;
      return [fact(S.offline_checkpoint, el("span", {
        className: "muted offline-checkpoint",
        "data-checkpoint": unchecked ? "unchecked" : "none",
        text: unchecked ? S.offline_checkpoint_unchecked : S.offline_checkpoint_none
      }))];
    }
    var departments = {};
    var cosigners = [];
    checkpoint.cosigners.forEach(function (c, i) {
      departments[c.department] = true;
      if (i) cosigners.push(", ");
      cosigners.push(el("span", { className: "cosigner", "data-address": c.address, "data-code": c.code }, [el("strong", { text: c.code }), " ", hex(c.address, 8)]));
    });
    var block = el("span", { className: "offline-checkpoint", "data-checkpoint": String(checkpoint.number) }, [
      "#" + checkpoint.number + " ", hex(checkpoint.hash, 8)
    ]);
    return [
      fact(S.offline_checkpoint, block),
      fact(S.offline_cosigners, el("span", {}, cosigners)),
      fact(S.offline_cosigned, fmt(S.offline_cosigned_value, {
        count: Object.keys(departments).length, threshold: checkpoint.threshold
      }))
    ];
  }

  function subject(file) {
    return el("p", { className: "subject" }, [S.file + ": ", el("strong", { text: file.name }), " (" + P.size(file.size) + ")"]);
  }

  function validVerdict(report, file) {
    var publisher = report.publisher.code
      ? el("span", {}, [el("strong", { text: report.publisher.code }), " ", hex(report.publisher.id)])
      : hex(report.publisher.id);
    var facts = el("dl", { className: "facts" }, [
      fact(S.offline_sealed_by, signer(report.sealed_by)),
      fact(S.offline_confirmed_by, signerList(report.confirmed_by)),
      fact(S.offline_signers, fmt(S.offline_signers_value, {
        count: 1 + report.confirmed_by.length, signers: report.signers, required: report.required
      })),
      fact(S.offline_history, report.from_genesis ? S.offline_from_genesis : S.offline_not_from_genesis),
      fact(S.block, "#" + report.block_number),
      fact(S.anchored_at, P.time(report.anchored_at)),
      fact(S.transaction, hex(report.transaction, 8)),
      fact(S.offline_publisher, publisher),
      fact(S.dataset, hex(report.dataset_id)),
      fact(S.root, hex(report.root)),
      fact(S.leaf, hex(report.leaf)),
      fact(S.offline_chain, String(report.chain_id)),
      fact(S.offline_fingerprint, el("code", { text: report.consortium }))
    ].concat(checkpointFacts(report)));
    var node = P.verdict("ok", "offline-valid", S.offline_valid, S.offline_valid_text, subject(file));
    node.setAttribute("data-signers", String(report.signers));
    // The facts below the verdict, on the page's background (as portal.js shows a match).
    return [node, el("article", { className: "match card offline-facts" }, [facts,
      el("p", { className: "notice", text: S.offline_unchecked })])];
  }

  function refusedVerdict(answer, file) {
    var sentence = S["offline_reason." + answer.reason] || S["offline_reason.unknown"];
    var node = P.verdict("bad", "offline-refused", S.offline_refused, sentence, [
      subject(file),
      el("p", {}, [S.offline_reason + ": ", el("code", { className: "reason", text: answer.reason })]),
      el("p", { className: "hint" }, [S.offline_detail + ": ", el("span", { lang: "en", text: answer.message })])
    ]);
    node.setAttribute("data-reason", answer.reason);
    return node;
  }

  /* ------------------------------------------------------------ checking */

  var generation = 0; // a check started later makes an earlier one's answer moot

  async function check(file) {
    var mine = ++generation;
    lastBundle = file;
    result.replaceChildren(el("p", { className: "progress", text: S.offline_checking }));
    var answer;
    if (file.size > V.MAX_BUNDLE_BYTES) {
      result.replaceChildren(P.verdict("bad", "offline-too-large", S.offline_refused, fmt(S.offline_too_large, { size: P.size(file.size) }), subject(file)));
      return;
    }
    if (trust === null) {
      result.replaceChildren(P.verdict("warn", "offline-no-trust", S.offline_refused, S.offline_trust_none, subject(file)));
      return;
    }
    var progress = result.firstChild;
    answer = await V.verifyBundleText(new Uint8Array(await file.arrayBuffer()), trust, {
      onProgress: function (done, total) { progress.textContent = fmt(S.offline_progress, { done: done, total: total }); }
    });
    if (mine !== generation) return;
    if (answer.valid) result.replaceChildren.apply(result, validVerdict(answer.report, file));
    else result.replaceChildren(refusedVerdict(answer, file));
  }

  async function chooseTrust(file) {
    var text = new Uint8Array(await file.arrayBuffer());
    if (useTrust(text, file.name) && lastBundle) await check(lastBundle);
  }

  /* ------------------------------------------------------------ wiring */

  bundleInput.addEventListener("change", function () {
    if (bundleInput.files && bundleInput.files.length) check(bundleInput.files[0]);
  });
  trustInput.addEventListener("change", function () {
    if (trustInput.files && trustInput.files.length) chooseTrust(trustInput.files[0]);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("dragging"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) check(files[0]);
  });
  embeddedTrust();
})();
