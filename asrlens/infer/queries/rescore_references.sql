-- Files rescored against a changed reference: their new reference, its hash and when.
-- :utt_ids, :ref_raws, :ref_norms and :ref_sha256s are lists of one length, item i for file i.
update transcripts as t
set ref_raw = n.ref_raw, ref_norm = n.ref_norm, ref_sha256 = n.ref_sha256,
    rescored_at = :rescored_at
from (
    select
        unnest(:utt_ids)     as utt_id,
        unnest(:ref_raws)    as ref_raw,
        unnest(:ref_norms)   as ref_norm,
        unnest(:ref_sha256s) as ref_sha256
) as n
where t.run_id = :run_id and t.utt_id = n.utt_id
