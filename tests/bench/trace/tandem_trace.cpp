// tandem-trace: replays one editing trace (josephg/editing-traces format,
// gzipped JSON) through the real tandem::text::Document and prints one JSON
// line:
//   {"file":..,"kind":"sequential"|"concurrent","ok":..,"ms":..,"cpu_ms":..,
//    "ops":..,"final_len":..,"encoded_bytes":..,"peak_rss_kb":..}
// ms is the wall time of the replay, cpu_ms its process CPU time.
// ok means the replayed text equals endContent exactly and decode(encode())
// reproduces it. Exit status 0 when ok, 1 when not, 2 on unusable input.
//
// Usage: tandem-trace [--remote] FILE.json.gz
//   --remote  (sequential traces) also ship every op to a second replica via
//             apply() and check it converges; adds "remote_ms".
//
// The trace is read with a SAX parser into compact arrays, so the reported
// peak RSS is the document's plus the patches', not a JSON DOM's. Only the
// replay is timed; reading, checking and encode/decode are not.
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tandem/core/text/sequence.hpp"

namespace {

using tandem::Json;
using tandem::text::Document;

struct Patch {
  std::uint64_t pos = 0;
  std::uint64_t del = 0;
  std::uint32_t ins_off = 0;  // into Trace::arena
  std::uint32_t ins_len = 0;
};

struct Txn {
  std::uint32_t patch_begin = 0;
  std::uint32_t patch_end = 0;
  std::uint32_t parents_begin = 0;
  std::uint32_t parents_end = 0;
  std::uint32_t agent = 0;
};

struct Trace {
  std::string kind = "sequential";
  std::string start_content;
  std::string end_content;
  std::vector<Txn> txns;
  std::vector<Patch> patches;
  std::vector<std::uint32_t> parents;
  std::string arena;
  std::uint32_t num_agents = 1;

  std::string_view ins(const Patch& p) const { return {arena.data() + p.ins_off, p.ins_len}; }
};

// SAX handler that fills a Trace; ignores members it does not know.
class TraceSax : public nlohmann::json_sax<Json> {
 public:
  explicit TraceSax(Trace* t) : t_(t) {}
  std::string error;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t v) override {
    return v >= 0 ? number(static_cast<std::uint64_t>(v)) : fail("negative number");
  }
  bool number_unsigned(number_unsigned_t v) override { return number(v); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool string(string_t& s) override {
    const std::size_t d = stack_.size();
    if (d == 1) {
      if (keys_[1] == "startContent") t_->start_content = s;
      if (keys_[1] == "endContent") t_->end_content = s;
      if (keys_[1] == "kind") t_->kind = s;
    } else if (in_patch() && patch_field_ == 2) {
      Patch& p = t_->patches.back();
      p.ins_off = static_cast<std::uint32_t>(t_->arena.size());
      p.ins_len = static_cast<std::uint32_t>(s.size());
      t_->arena += s;
    }
    if (in_patch()) ++patch_field_;
    return true;
  }
  bool start_object(std::size_t) override {
    push('{');
    if (stack_.size() == 3 && keys_[1] == "txns") {
      Txn txn;
      txn.patch_begin = txn.patch_end = static_cast<std::uint32_t>(t_->patches.size());
      txn.parents_begin = txn.parents_end = static_cast<std::uint32_t>(t_->parents.size());
      t_->txns.push_back(txn);
    }
    return true;
  }
  bool end_object() override { return pop(); }
  bool start_array(std::size_t) override {
    push('[');
    if (in_patch()) {
      t_->patches.emplace_back();
      patch_field_ = 0;
    }
    return true;
  }
  bool end_array() override {
    if (in_patch()) {
      if (patch_field_ != 3) return fail("a patch must be [pos, del, ins]");
      t_->txns.back().patch_end = static_cast<std::uint32_t>(t_->patches.size());
    }
    return pop();
  }
  bool key(string_t& k) override {
    keys_[stack_.size()] = k;
    return true;
  }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error = "JSON error at byte " + std::to_string(pos) + ": " + e.what();
    return false;
  }

 private:
  // Depth 5 array inside txns[i].patches.
  bool in_patch() const {
    return stack_.size() == 5 && stack_[4] == '[' && keys_[3] == "patches" && keys_[1] == "txns";
  }
  bool number(std::uint64_t v) {
    const std::size_t d = stack_.size();
    if (d == 1 && keys_[1] == "numAgents") t_->num_agents = static_cast<std::uint32_t>(v);
    if (d == 3 && keys_[1] == "txns" && keys_[3] == "agent") {
      t_->txns.back().agent = static_cast<std::uint32_t>(v);
    }
    if (d == 4 && keys_[1] == "txns" && keys_[3] == "parents") {
      t_->parents.push_back(static_cast<std::uint32_t>(v));
      t_->txns.back().parents_end = static_cast<std::uint32_t>(t_->parents.size());
    }
    if (in_patch()) {
      if (patch_field_ == 0) t_->patches.back().pos = v;
      if (patch_field_ == 1) t_->patches.back().del = v;
      ++patch_field_;
    }
    return true;
  }
  bool scalar() {
    if (in_patch()) ++patch_field_;
    return true;
  }
  void push(char c) {
    stack_.push_back(c);
    if (keys_.size() <= stack_.size()) keys_.resize(stack_.size() + 1);
    keys_[stack_.size()].clear();
  }
  bool pop() {
    stack_.pop_back();
    return true;
  }
  bool fail(const char* what) {
    error = what;
    return false;
  }

  Trace* t_;
  std::vector<char> stack_;
  std::vector<std::string> keys_ = std::vector<std::string>(8);
  int patch_field_ = 0;
};

bool read_gzip(const char* path, std::string* out) {
  gzFile f = gzopen(path, "rb");
  if (!f) return false;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out->append(buf, static_cast<std::size_t>(n));
  const bool ok = n == 0;
  gzclose(f);
  return ok;
}

std::string agent_name(std::uint32_t i) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016x", 0xa9e17000u + i);
  return buf;
}

void append(Json* ops, Json& more) {
  for (Json& op : more) ops->push_back(std::move(op));
}

// Applies one patch as a local edit; appends the produced ops to `ops`.
bool apply_patch(Document& doc, const std::string& agent, const Trace& t, const Patch& p,
                 Json* ops) {
  if (p.del > 0) {
    auto r = doc.remove(agent, static_cast<std::size_t>(p.pos), static_cast<std::size_t>(p.del));
    if (!r.ok()) return false;
    if (ops) append(ops, *r);
  }
  if (p.ins_len > 0) {
    auto r = doc.insert(agent, static_cast<std::size_t>(p.pos), t.ins(p));
    if (!r.ok()) return false;
    if (ops) append(ops, *r);
  }
  return true;
}

struct Outcome {
  bool ok = true;
  std::string why;
  std::uint64_t ops = 0;
  double remote_ms = -1;
};

Outcome replay_sequential(const Trace& t, Document& doc, bool remote) {
  Outcome out;
  const std::string agent = agent_name(0);
  Document replica;
  Json ops;
  Json* ship = remote ? &ops : nullptr;
  if (!t.start_content.empty()) {
    auto r = doc.insert(agent, 0, t.start_content);
    if (!r.ok()) return {false, "startContent rejected", 0};
    if (ship) append(&ops, *r);
  }
  for (const Txn& txn : t.txns) {
    for (std::uint32_t i = txn.patch_begin; i < txn.patch_end; ++i) {
      if (ship) ops = Json::array();
      if (!apply_patch(doc, agent, t, t.patches[i], ship)) {
        return {false, "patch " + std::to_string(i) + " rejected", out.ops};
      }
      ++out.ops;
      if (ship && !replica.apply(ops).ok()) return {false, "remote apply failed", out.ops};
    }
  }
  if (remote && replica.text() != doc.text()) return {false, "remote replica diverged", out.ops};
  return out;
}

// One replica per agent. Before a txn, its agent's replica is brought to
// exactly the merge of the txn's parents by applying the ops of the missing
// ancestor txns (a replica's content is always the history of the last txn it
// made, so that is downward closed and a DFS from the parents finds the rest).
Outcome replay_concurrent(const Trace& t, Document& result) {
  Outcome out;
  const std::size_t n = t.txns.size();
  struct Replica {
    Document doc;
    std::vector<char> has;
    std::int64_t last = -1;
  };
  std::vector<Replica> replicas(std::max<std::uint32_t>(t.num_agents, 1));
  for (auto& r : replicas) r.has.assign(n, 0);
  std::vector<Json> txn_ops(n);
  std::vector<std::uint32_t> stack;
  std::vector<std::uint32_t> missing;
  std::vector<char> seen(n, 0);
  std::vector<std::uint32_t> seen_list;

  auto collect = [&](const Replica& rep, std::uint32_t from_begin, std::uint32_t from_end,
                     bool* reaches_last) {
    missing.clear();
    stack.clear();
    for (std::uint32_t i = from_begin; i < from_end; ++i) stack.push_back(t.parents[i]);
    while (!stack.empty()) {
      const std::uint32_t x = stack.back();
      stack.pop_back();
      if (seen[x]) continue;
      seen[x] = 1;
      seen_list.push_back(x);
      if (rep.has[x]) {
        if (static_cast<std::int64_t>(x) == rep.last) *reaches_last = true;
        continue;
      }
      missing.push_back(x);
      const Txn& tx = t.txns[x];
      for (std::uint32_t i = tx.parents_begin; i < tx.parents_end; ++i)
        stack.push_back(t.parents[i]);
    }
    for (std::uint32_t x : seen_list) seen[x] = 0;
    seen_list.clear();
    std::sort(missing.begin(), missing.end());
  };

  for (std::uint32_t ti = 0; ti < n; ++ti) {
    const Txn& txn = t.txns[ti];
    if (txn.agent >= replicas.size()) return {false, "agent out of range", out.ops};
    Replica& rep = replicas[txn.agent];
    bool reaches_last = rep.last < 0;
    collect(rep, txn.parents_begin, txn.parents_end, &reaches_last);
    if (!reaches_last) {
      // The replica knows something the txn's author had not seen: rebuild.
      rep = Replica{};
      rep.has.assign(n, 0);
      collect(rep, txn.parents_begin, txn.parents_end, &reaches_last);
    }
    for (std::uint32_t x : missing) {
      if (!rep.doc.apply(txn_ops[x]).ok()) return {false, "merge apply failed", out.ops};
      rep.has[x] = 1;
    }
    Json ops = Json::array();
    const std::string agent = agent_name(txn.agent);
    for (std::uint32_t i = txn.patch_begin; i < txn.patch_end; ++i) {
      if (!apply_patch(rep.doc, agent, t, t.patches[i], &ops)) {
        return {false, "patch " + std::to_string(i) + " rejected", out.ops};
      }
      ++out.ops;
    }
    txn_ops[ti] = std::move(ops);
    rep.has[ti] = 1;
    rep.last = ti;
  }
  // Merge everything everywhere; all replicas must agree.
  for (Replica& rep : replicas) {
    for (std::uint32_t x = 0; x < n; ++x) {
      if (!rep.has[x] && !rep.doc.apply(txn_ops[x]).ok())
        return {false, "final merge failed", out.ops};
    }
  }
  for (Replica& rep : replicas) {
    if (rep.doc.text() != replicas[0].doc.text()) return {false, "replicas diverged", out.ops};
  }
  result = std::move(replicas[0].doc);
  return out;
}

std::string json_string(const std::string& s) { return Json(s).dump(); }

// CPU time of this process: unlike wall time, not inflated by other load.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  bool remote = false;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--remote") == 0) {
      remote = true;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    std::fprintf(stderr, "usage: tandem-trace [--remote] FILE.json.gz\n");
    return 2;
  }
  Trace trace;
  {
    std::string raw;
    if (!read_gzip(path, &raw)) {
      std::fprintf(stderr, "tandem-trace: cannot read %s\n", path);
      return 2;
    }
    TraceSax sax(&trace);
    if (!Json::sax_parse(raw, &sax)) {
      std::fprintf(stderr, "tandem-trace: %s: %s\n", path, sax.error.c_str());
      return 2;
    }
  }
  const bool concurrent = trace.kind == "concurrent";

  Document doc;
  const double c0 = cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  Outcome out = concurrent ? replay_concurrent(trace, doc) : replay_sequential(trace, doc, false);
  const auto t1 = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double replay_cpu_ms = cpu_ms() - c0;

  if (out.ok && remote && !concurrent) {
    Document local;
    const auto r0 = std::chrono::steady_clock::now();
    Outcome o2 = replay_sequential(trace, local, true);
    out.remote_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r0).count();
    if (!o2.ok) out = o2;
  }

  std::string text = doc.text();
  if (out.ok && text != trace.end_content) {
    out.ok = false;
    out.why = "final text differs from endContent";
  }
  const std::string encoded = doc.encode();
  if (out.ok) {
    auto decoded = Document::decode(encoded);
    if (!decoded.ok() || decoded->text() != text || decoded->encode() != encoded) {
      out.ok = false;
      out.why = "decode(encode()) does not reproduce the document";
    }
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);

  std::string line = "{\"file\":" + json_string(path) + ",\"kind\":\"" +
                     (concurrent ? "concurrent" : "sequential") +
                     "\",\"ok\":" + (out.ok ? "true" : "false");
  char buf[256];
  std::snprintf(buf, sizeof buf,
                ",\"ms\":%.1f,\"cpu_ms\":%.1f,\"ops\":%llu,\"final_len\":%zu,\"encoded_bytes\":%zu,"
                "\"peak_rss_kb\":%ld",
                ms, replay_cpu_ms, static_cast<unsigned long long>(out.ops), doc.size(),
                encoded.size(), ru.ru_maxrss);
  line += buf;
  if (out.remote_ms >= 0) {
    std::snprintf(buf, sizeof buf, ",\"remote_ms\":%.1f", out.remote_ms);
    line += buf;
  }
  if (!out.ok) line += ",\"error\":" + json_string(out.why);
  line += "}";
  std::puts(line.c_str());
  return out.ok ? 0 : 1;
}
