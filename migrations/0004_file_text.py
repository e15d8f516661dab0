"""Text extracted from uploaded documents, kept with the file so a reply never re-parses a PDF."""
from yoyo import step

__depends__ = {"0003_credit_holds"}

steps = [step("ALTER TABLE files ADD COLUMN text TEXT", "ALTER TABLE files DROP COLUMN text")]
