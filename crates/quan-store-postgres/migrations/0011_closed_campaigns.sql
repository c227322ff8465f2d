-- A closed campaign's books are final: no transfer may touch it, except the
-- close-out's own return to the treasury, posted with the status change.
CREATE FUNCTION ledger_transfers_campaign_open() RETURNS trigger AS $$
BEGIN
    IF NEW.reason <> 'close_out'
       AND (SELECT status FROM campaigns WHERE id = NEW.campaign_id) = 'closed' THEN
        RAISE EXCEPTION 'campaign_closed: the campaign is closed; its ledger takes no more transfers';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_transfers_campaign_open
BEFORE INSERT ON ledger_transfers
FOR EACH ROW EXECUTE FUNCTION ledger_transfers_campaign_open();
