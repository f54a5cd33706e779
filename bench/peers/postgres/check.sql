-- The banking invariant: the money is the initial total plus every committed deposit, and no balance is negative.
SELECT CASE WHEN (SELECT sum(balance) FROM accounts) = 100000::bigint * 1000000 + (SELECT coalesce(sum(amt), 0) FROM deposit_log)
             AND (SELECT count(*) FROM accounts WHERE balance < 0) = 0 THEN 'ok' ELSE 'BROKEN' END
       || ': total ' || (SELECT sum(balance) FROM accounts)
       || ', expected ' || (100000::bigint * 1000000 + (SELECT coalesce(sum(amt), 0) FROM deposit_log))
       || ', negative ' || (SELECT count(*) FROM accounts WHERE balance < 0);
