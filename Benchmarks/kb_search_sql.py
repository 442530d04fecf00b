#!/usr/bin/env python3
"""Common-term knowledge-base search on SQLite, before and after the scoped FTS index (issue #7, 11c).

Usage: Benchmarks/kb_search_sql.py [ENTRIES_PER_TENANT] [TENANTS] [RUNS]

Builds a throwaway database in a temp dir with the FTS5 table as migration 8 made it ("before": the
tenant and instance are UNINDEXED columns filtered row by row) and as migration 10 makes it ("after":
one indexed scope token per instance, ranked on the content column only), fills it with TENANTS
tenants of ENTRIES_PER_TENANT entries of 60 random words each, 70 % of which also contain "refund",
and times the store's search SQL for "refund" (20 hits) and for a rare word in the first tenant's
instance: CPU time of this process per search (p50/p95), and the hits of both shapes compared.
Python's sqlite3 module links the system libsqlite3 (3.40.1 here), the same library GRDB uses.
"""
import os, random, sqlite3, sys, tempfile, time, uuid

entries = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
tenants = int(sys.argv[2]) if len(sys.argv) > 2 else 1
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 50

tok = "tokenize = 'unicode61 remove_diacritics 2'"
path = os.path.join(tempfile.mkdtemp(prefix="kb-search-"), "kb.sqlite")
db = sqlite3.connect(path)
db.execute(f"CREATE VIRTUAL TABLE before USING fts5(entry_id UNINDEXED, tenant_id UNINDEXED, instance_id UNINDEXED, content, {tok})")
db.execute(f"CREATE VIRTUAL TABLE after USING fts5(entry_id UNINDEXED, scope, content, {tok})")
words = [f"w{i}" for i in range(5000)]
rnd = random.Random(7)
scopes = []
for _ in range(tenants):
    tenant, instance = str(uuid.uuid4()), str(uuid.uuid4())
    scope = "s" + tenant.replace("-", "") + instance.replace("-", "")
    scopes.append((tenant, instance, scope))
    for _ in range(entries):
        text = " ".join(rnd.choice(words) for _ in range(60))
        if rnd.random() < 0.7:
            text += " refund policy"
        entry = str(uuid.uuid4())
        db.execute("INSERT INTO before VALUES (?, ?, ?, ?)", (entry, tenant, instance, text))
        db.execute("INSERT INTO after VALUES (?, ?, ?)", (entry, scope + " e" + entry.replace("-", ""), text))
db.commit()

BEFORE = """SELECT entry_id, -bm25(before) AS rank, snippet(before, 3, '[', ']', '…', 12) AS snippet
FROM before WHERE before MATCH ? AND tenant_id = ? AND instance_id = ? ORDER BY bm25(before) LIMIT 20"""
AFTER = """SELECT entry_id, -bm25(after, 0, 0, 1) AS rank, snippet(after, 2, '[', ']', '…', 12) AS snippet
FROM after WHERE after MATCH ? ORDER BY bm25(after, 0, 0, 1) LIMIT 20"""

tenant, instance, scope = scopes[0]


def timed(sql, args):
    cpu = []
    for _ in range(runs):
        start = time.process_time()
        rows = db.execute(sql, args).fetchall()
        cpu.append((time.process_time() - start) * 1000)
    cpu.sort()
    return rows, cpu[len(cpu) // 2], cpu[int(len(cpu) * 0.95)]


print(f"{tenants} tenant(s) x {entries} entries, {runs} runs, SQLite {sqlite3.sqlite_version}")
for word in ["refund", "w17"]:
    matches = db.execute("SELECT count(*) FROM after WHERE after MATCH ?", (f'scope : "{scope}" AND content : "{word}"',)).fetchone()[0]
    old, old50, old95 = timed(BEFORE, (f'"{word}"', tenant, instance))
    new, new50, new95 = timed(AFTER, (f'scope : "{scope}" AND content : ("{word}")',))
    same = [r[0] for r in old] == [r[0] for r in new]
    print(f"'{word}' ({matches} matches): before p50 {old50:.2f} ms p95 {old95:.2f} ms CPU; "
          f"after p50 {new50:.2f} ms p95 {new95:.2f} ms CPU; same hits in the same order: {same}")
