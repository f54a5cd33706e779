-- Banking on PostgreSQL, as a .NET developer might build it instead of a workflow engine: one table of
-- 100,000 accounts at 1,000,000 and a stored transfer function. Reloaded before every measured point.
DROP TABLE IF EXISTS accounts;
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
INSERT INTO accounts SELECT g, 1000000 FROM generate_series(0, 99999) g;
-- Append-only, so that deposits can be summed for the invariant without contending on one counter row.
DROP TABLE IF EXISTS deposit_log;
CREATE TABLE deposit_log (amt int NOT NULL);
-- Locks both rows in id order, so concurrent transfers never deadlock and need no retry; then the same
-- check -> withdraw -> deposit as Leasehold's transfer workflow.
CREATE OR REPLACE FUNCTION transfer(src int, dst int, amt int) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE b bigint;
BEGIN
  PERFORM 1 FROM accounts WHERE id IN (src, dst) ORDER BY id FOR UPDATE;
  SELECT balance INTO b FROM accounts WHERE id = src;
  IF b < amt THEN RETURN false; END IF;
  UPDATE accounts SET balance = balance - amt WHERE id = src;
  UPDATE accounts SET balance = balance + amt WHERE id = dst;
  RETURN true;
END $$;
VACUUM ANALYZE accounts;
CHECKPOINT;
