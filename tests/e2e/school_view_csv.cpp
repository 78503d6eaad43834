// CSV exports of the school's view read back by Python's csv module:
// commas, quotes, line breaks, Danish letters, a formula-looking text, the
// BOM and the ';' options (reports.hpp, to_csv).
#include <catch2/catch.hpp>
#include <fstream>

#include "cli_runner.hpp"
#include "sync_fixture.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

// Python's csv module parses `file` (encoding utf-8-sig when `bom`) with
// `delimiter`; the rows come back as JSON.
Json python_rows(const std::string& file, char delimiter, bool bom) {
  const std::string script =
      "import csv, json, sys\n"
      "raw = open(sys.argv[1], 'rb').read()\n"
      "bom = raw.startswith(b'\\xef\\xbb\\xbf')\n"
      "if bom != (sys.argv[3] == '1'): sys.exit('BOM: %s' % bom)\n"
      "text = raw.decode('utf-8-sig')\n"
      "import io\n"
      "rows = list(csv.reader(io.StringIO(text, newline=''), delimiter=sys.argv[2], strict=True))\n"
      "print(json.dumps(rows))\n";
  auto r = run_process("/usr/bin/python3", {"-c", script, file, std::string(1, delimiter),
                                            bom ? "1" : "0"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

}  // namespace

TEST_CASE("School view CSV: RFC 4180 quoting, Danish letters, BOM and semicolon read back by Python's csv",
          "[school_view][csv]") {
  SyncWorld w;
  const std::string leader = w.add_person("Lene Leder", "leader");
  Tablet tablet(w.dir.path() + "/rp.db");
  w.enroll(tablet);
  const std::string tricky = "Ring til \"far\", mor; og Åse\nlinje 2 æøå";
  const std::string formula = "=HYPERLINK(\"http://x\")";
  REQUIRE(tablet.store().create("action", Json{{"text", tricky}, {"due", "2026-03-01"}, {"tovholder", leader}}));
  REQUIRE(tablet.store().create("action", Json{{"text", formula}, {"due", "2026-03-02"}}));
  const std::string dde = "-2+3+cmd|' /C calc'!A0";  // runs in spreadsheets though it starts "-2"
  REQUIRE(tablet.store().create("action", Json{{"text", dde}, {"due", "2026-03-03"}}));
  REQUIRE(tablet.sync(w.base_url()).ok());

  for (const bool excel : {false, true}) {
    DYNAMIC_SECTION((excel ? "';' and BOM" : "',' without BOM")) {
      const std::string file = w.dir.path() + (excel ? "/excel.csv" : "/plain.csv");
      std::vector<std::string> args = {"export", "--school", w.school.id, "--table", "actions", "--from",
                                       "2025-08-01", "--to", "2026-07-31", "--output", file};
      if (excel) {
        args.push_back("--bom");
        args.push_back("--semicolon");
      }
      auto r = server_admin(w.dir.path(), args);
      INFO(r.out << r.err);
      REQUIRE(r.exit_code == 0);
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      CHECK(bytes.find("\r\n") != std::string::npos);  // CRLF records
      const Json rows = python_rows(file, excel ? ';' : ',', excel);
      REQUIRE(rows.size() == 4);
      const Json& header = rows[0];
      const auto col = [&](const std::string& name) {
        for (std::size_t i = 0; i < header.size(); ++i) {
          if (header[i] == name) return i;
        }
        FAIL("no column " << name);
        return std::size_t{0};
      };
      // Rows are ordered by due date.
      const auto row = [&](const std::string& due) -> const Json& {
        for (std::size_t i = 1; i < rows.size(); ++i) {
          if (rows[i][col("due")] == due) return rows[i];
        }
        FAIL("no row due " << due);
        return rows[0];
      };
      CHECK(rows[1][col("due")] == "2026-03-01");
      CHECK(rows[3][col("due")] == "2026-03-03");
      CHECK(row("2026-03-01")[col("text")] == tricky);
      CHECK(row("2026-03-01")[col("tovholder_name")] == "Lene Leder");
      CHECK(row("2026-03-01")[col("done")] == "false");
      // A spreadsheet must not run them: shown as text.
      CHECK(row("2026-03-02")[col("text")] == "'" + formula);
      CHECK(row("2026-03-03")[col("text")] == "'" + dde);
    }
  }

  // The same over HTTP for the school's leader, with the download headers.
  const TestDevice device = enroll_test_device(*w.server, leader);
  auto res = w.http.request("GET",
                            w.server->url("/v1/schools/" + w.school.id +
                                          "/tables/actions?format=csv&sep=semicolon&bom=1&from=2025-08-01"),
                            {}, {"Authorization: Bearer " + device.token});
  REQUIRE(res.status == 200);
  CHECK(res.headers["content-type"].rfind("text/csv; charset=utf-8", 0) == 0);
  CHECK(res.headers["content-disposition"] == "attachment; filename=\"actions.csv\"");
  CHECK(res.body.rfind("\xEF\xBB\xBFid;text;due", 0) == 0);
  auto json = w.http.request("GET", w.server->url("/v1/schools/" + w.school.id + "/tables/actions?from=2025-08-01"),
                             {}, {"Authorization: Bearer " + device.token});
  REQUIRE(json.status == 200);
  CHECK(json.json().at("rows").size() == 3);
  CHECK(json.json().at("rows")[0].at("text") == tricky);  // the earliest due first
}

}  // namespace tandem::test
