-- A closed campaign's books are final: no transfer may touch it, except the
-- close-out's own return to the treasury, posted with the status change.
CREATE TRIGGER ledger_transfers_campaign_open
BEFORE INSERT ON ledger_transfers
WHEN NEW.reason <> 'close_out'
  AND (SELECT status FROM campaigns WHERE id = NEW.campaign_id) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'campaign_closed: the campaign is closed; its ledger takes no more transfers');
END;
