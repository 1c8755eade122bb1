"""Writes one model-version tag straight into MLflow's SQLite database,
around every API: what an attacker with database access does.

argv: DB_PATH NAME VERSION KEY VALUE
"""
import sqlite3
import sys

db, name, version, key, value = sys.argv[1:6]
con = sqlite3.connect(db)
with con:
    con.execute("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                (name, int(version), key))
    con.execute("INSERT INTO model_version_tags (key, value, name, version) VALUES (?, ?, ?, ?)",
                (key, value, name, int(version)))
con.close()
