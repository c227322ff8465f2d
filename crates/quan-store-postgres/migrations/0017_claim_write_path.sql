-- The claim's write path (issue 5). Each foreign key is a query PostgreSQL
-- runs for every inserted row, with a FOR KEY SHARE lock on the row it
-- names: the eight keys of a claim (its batch, campaign and resident; its
-- limit slots' claim; its vouchers' claim, campaign, batch and resident)
-- were 43 % of the machine's CPU during a grab, and the engine reached
-- 34 500–36 100 claims/s with them switched off against 15 100–17 000 with
-- them (`quan bench claim --skip-peers`). quan never deletes campaigns,
-- batches or residents, and writes these columns from the batch it holds
-- and the resident's session; the audit checks every one of them
-- (`claim_differs_from_records`), and also that a claim's batch belongs to
-- its campaign, which no key did. The redemption's key to its voucher, the
-- limit slots' primary key (a slot cannot be taken twice) and the stock's
-- CHECK (remaining >= 0) stay: those are the guards the claim relies on.
ALTER TABLE claims DROP CONSTRAINT claims_batch_id_fkey;
ALTER TABLE claims DROP CONSTRAINT claims_campaign_id_fkey;
ALTER TABLE claims DROP CONSTRAINT claims_resident_id_fkey;
ALTER TABLE claim_slots DROP CONSTRAINT claim_slots_claim_id_fkey;
ALTER TABLE vouchers DROP CONSTRAINT vouchers_claim_id_fkey;
ALTER TABLE vouchers DROP CONSTRAINT vouchers_campaign_id_fkey;
ALTER TABLE vouchers DROP CONSTRAINT vouchers_batch_id_fkey;
ALTER TABLE vouchers DROP CONSTRAINT vouchers_resident_id_fkey;
