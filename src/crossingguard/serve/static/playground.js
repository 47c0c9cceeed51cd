// CrossingGuard playground: plain JavaScript, no build step, no CDN (the server may be offline).
// Scores come from POST /v1/check once; moving a threshold re-decides locally with the same
// rules as crossingguard.guard.Verdict (fired: score >= threshold; action: the strongest action
// among fired conditions, block > flag > log; allowed unless a block condition fired).
"use strict";

const ACTION_RANK = { allow: 0, log: 1, flag: 2, block: 3 };
const state = { prompts: [], verdicts: [], thresholds: [] };
const $ = (id) => document.getElementById(id);

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : response.statusText;
    const error = new Error(response.status + ": " + message);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function loadPolicies() {
  try {
    const data = await api("GET", "/v1/policies");
    const select = $("policy");
    select.replaceChildren();
    for (const policy of data.policies) {
      const option = document.createElement("option");
      option.value = policy.name;
      option.textContent = policy.name + " (" + policy.conditions.length + " conditions)";
      option.selected = policy.default;
      select.append(option);
    }
    const models = [...new Set(data.policies.map((p) => p.model))].join(", ");
    $("status").textContent = "ready · model " + models;
    $("status").className = "ready";
  } catch (error) {
    if (error.status === 503) {
      $("status").textContent = "model loading…";
      setTimeout(loadPolicies, 1000);
    } else {
      $("status").textContent = "not connected";
      showError(error.message + (error.status === 401 ? " (enter an API key above)" : ""));
    }
  }
}

function requestBody(prompts) {
  if ($("mode-conditions").checked) {
    const conditions = $("conditions").value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (!conditions.length) throw new Error("type at least one condition, one per line");
    return { prompts, conditions };
  }
  return { prompts, policy: $("policy").value || null };
}

async function check() {
  showError("");
  const prompts = $("prompts").value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (!prompts.length) return showError("type or paste at least one prompt");
  const button = $("check");
  button.disabled = true;
  try {
    const data = await api("POST", "/v1/check", requestBody(prompts));
    state.prompts = prompts;
    state.verdicts = data.verdicts;
    state.thresholds = data.verdicts[0].conditions.map((c) => c.threshold);
    renderThresholds();
    renderResults();
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

function conditionLabel(c) {
  return c.name || c.condition;
}

function decide(verdict) {
  const fired = verdict.conditions.filter((c, i) => c.score >= state.thresholds[i]);
  let action = "allow";
  for (const c of fired) if (ACTION_RANK[c.action] > ACTION_RANK[action]) action = c.action;
  return { fired, action, allowed: action !== "block" };
}

function renderThresholds() {
  const list = $("threshold-list");
  list.replaceChildren();
  state.verdicts[0].conditions.forEach((c, i) => {
    const row = document.createElement("label");
    row.className = "threshold";
    const name = document.createElement("span");
    name.textContent = conditionLabel(c);
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.01" });
    slider.value = String(state.thresholds[i]);
    slider.dataset.testid = "threshold-" + i;
    slider.setAttribute("aria-label", "threshold of " + conditionLabel(c));
    const value = document.createElement("output");
    value.textContent = state.thresholds[i].toFixed(2);
    slider.addEventListener("input", () => {
      state.thresholds[i] = Number(slider.value);
      value.textContent = state.thresholds[i].toFixed(2);
      renderResults();
    });
    row.append(name, slider, value);
    list.append(row);
  });
  $("thresholds").hidden = false;
}

function bar(kind, probability) {
  const row = document.createElement("div");
  row.className = "bar " + kind;
  row.dataset.testid = "bar-" + kind;
  const label = document.createElement("span");
  label.className = "label";
  label.textContent = kind[0].toUpperCase();
  label.title = kind;
  const track = document.createElement("span");
  track.className = "track";
  const fill = document.createElement("span");
  fill.className = "fill";
  fill.style.width = (probability * 100).toFixed(1) + "%";
  track.append(fill);
  const value = document.createElement("span");
  value.className = "value";
  value.textContent = (probability * 100).toFixed(1) + "%";
  row.append(label, track, value);
  return row;
}

function renderResults() {
  const results = $("results");
  results.replaceChildren();
  const template = $("result-template");
  state.verdicts.forEach((verdict, n) => {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.testid = "result-" + n;
    const decision = decide(verdict);
    const badge = card.querySelector(".decision");
    badge.textContent = (decision.allowed ? "ALLOWED" : "BLOCKED") + " · " + decision.action;
    badge.className = "decision " + decision.action;
    card.querySelector(".prompt").textContent = state.prompts[n];
    card.querySelector(".fired-list").textContent = decision.fired.length
      ? "fired: " + decision.fired.map(conditionLabel).join(", ")
      : "nothing fired";
    const rows = card.querySelector(".conditions");
    verdict.conditions.forEach((c, i) => {
      const row = document.createElement("div");
      const fired = c.score >= state.thresholds[i];
      row.className = "condition" + (fired ? " fired" : "");
      row.dataset.testid = "condition";
      row.dataset.fired = String(fired);
      const title = document.createElement("div");
      title.className = "title";
      title.textContent = conditionLabel(c) + (c.hypothesis && c.name ? " — " + c.hypothesis : "");
      const score = document.createElement("div");
      score.className = "score";
      score.textContent = c.fire_on + " " + (c.score * 100).toFixed(1) + "% "
        + (fired ? "≥" : "<") + " threshold " + (state.thresholds[i] * 100).toFixed(1) + "%"
        + (fired ? " · FIRED (" + c.action + ")" : "");
      row.append(title, bar("entailment", c.entailment), bar("neutral", c.neutral),
        bar("contradiction", c.contradiction), score);
      rows.append(row);
    });
    results.append(card);
  });
}

function syncMode() {
  const own = $("mode-conditions").checked;
  $("conditions").disabled = !own;
  $("policy").disabled = own;
}

document.addEventListener("DOMContentLoaded", () => {
  const saved = sessionStorage.getItem("crossingguard-api-key");
  if (saved) $("api-key").value = saved;
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem("crossingguard-api-key", $("api-key").value.trim());
    showError("");
    loadPolicies();
  });
  $("mode-policy").addEventListener("change", syncMode);
  $("mode-conditions").addEventListener("change", syncMode);
  $("check").addEventListener("click", check);
  $("prompts").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) check();
  });
  syncMode();
  loadPolicies();
});
