//! The pairing schedule of a matchmaking event, pure.
//!
//! Every registered listing is paired with every registered need of another organisation and
//! the pair is scored with [`crate::score::score`]. The schedule is then built greedily: the
//! pairs are taken best score first (ties: lower listing id, then lower need id), and each is
//! put in the earliest time slot that still has a free table and in which neither of its two
//! organisations is already booked, at that slot's next free table; a pair that fits in no slot
//! is left out. So no organisation sits at two tables in one slot, no table holds two pairs
//! in one slot, the best pairs get the earliest slots, and the schedule is maximal: every pair
//! left out meets, in every slot, a full room or one of its organisations already booked.
use std::collections::HashSet;

/// A pair that could meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub listing_id: i64,
    pub demand_id: i64,
    pub listing_org: i64,
    pub demand_org: i64,
    pub score: f64,
}

/// A time slot and a table in it (both 0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seat {
    pub slot: u32,
    pub table: u32,
}

/// Places candidates in `slots` time slots of `tables` tables (see the module docs). Returns
/// the index of each placed candidate with its seat, in the order they were placed (best
/// first).
pub fn assign(cands: &[Candidate], slots: u32, tables: u32) -> Vec<(usize, Seat)> {
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&cands[a], &cands[b]);
        y.score
            .total_cmp(&x.score)
            .then_with(|| x.listing_id.cmp(&y.listing_id))
            .then_with(|| x.demand_id.cmp(&y.demand_id))
    });
    let mut used = vec![0u32; slots as usize];
    let mut busy: Vec<HashSet<i64>> = vec![HashSet::new(); slots as usize];
    let mut pairs: HashSet<(i64, i64)> = HashSet::new();
    let mut out = Vec::new();
    for i in order {
        let c = &cands[i];
        if c.listing_org == c.demand_org || pairs.contains(&(c.listing_id, c.demand_id)) {
            continue;
        }
        let free = (0..slots as usize).find(|&s| {
            used[s] < tables
                && !busy[s].contains(&c.listing_org)
                && !busy[s].contains(&c.demand_org)
        });
        if let Some(s) = free {
            out.push((
                i,
                Seat {
                    slot: s as u32,
                    table: used[s],
                },
            ));
            used[s] += 1;
            busy[s].insert(c.listing_org);
            busy[s].insert(c.demand_org);
            pairs.insert((c.listing_id, c.demand_id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn c(l: i64, d: i64, lo: i64, dor: i64, score: f64) -> Candidate {
        Candidate {
            listing_id: l,
            demand_id: d,
            listing_org: lo,
            demand_org: dor,
            score,
        }
    }

    #[test]
    fn best_pairs_first_and_no_party_twice_in_a_slot() {
        // Org 1 has listings 10, 11; org 2 has need 20; org 3 has need 30; org 4 has need 40
        // and listing 12.
        let cands = vec![
            c(10, 20, 1, 2, 0.9),
            c(11, 20, 1, 2, 0.8),
            c(10, 30, 1, 3, 0.7),
            c(12, 30, 4, 3, 0.6),
            c(12, 40, 4, 4, 0.95), // the same organisation: never
            c(10, 40, 1, 4, 0.1),
        ];
        let got = assign(&cands, 2, 2);
        let seats: Vec<(usize, u32, u32)> =
            got.iter().map(|(i, s)| (*i, s.slot, s.table)).collect();
        // 10-20 takes slot 0; 11-20 must wait for slot 1 (orgs 1 and 2 are busy in slot 0);
        // 10-30 fits nowhere (org 1 sits in both slots); 12-30 takes slot 0's second table;
        // 10-40 finds slot 0 full and org 1 busy in slot 1.
        assert_eq!(seats, vec![(0, 0, 0), (1, 1, 0), (3, 0, 1)]);
    }

    #[test]
    fn one_table_one_slot_takes_the_single_best_pair() {
        let cands = vec![c(1, 2, 1, 2, 0.2), c(3, 4, 3, 4, 0.5), c(5, 6, 5, 6, 0.4)];
        let got = assign(&cands, 1, 1);
        assert_eq!(got, vec![(1, Seat { slot: 0, table: 0 })]);
        assert!(assign(&cands, 0, 5).is_empty());
        assert!(assign(&cands, 5, 0).is_empty());
    }

    fn arb_cands() -> impl Strategy<Value = Vec<Candidate>> {
        proptest::collection::vec((0i64..8, 0i64..8, 0i64..6, 0i64..6, 0.0f64..1.0), 0..60)
            .prop_map(|v| {
                v.into_iter()
                    .map(|(l, d, lo, dor, s)| c(l, 100 + d, lo, dor, s))
                    .collect()
            })
    }

    proptest! {
        /// No organisation twice in a slot, no table twice in a slot, seats inside the room,
        /// no pair twice and none within one organisation, and nothing left out that would fit.
        #[test]
        fn schedules_keep_the_rules_and_are_maximal(
            cands in arb_cands(), slots in 0u32..5, tables in 0u32..4,
        ) {
            let got = assign(&cands, slots, tables);
            let mut seats = HashSet::new();
            let mut orgs_in_slot: HashMap<u32, HashSet<i64>> = HashMap::new();
            let mut pairs = HashSet::new();
            for (i, seat) in &got {
                let cand = &cands[*i];
                prop_assert!(seat.slot < slots && seat.table < tables);
                prop_assert!(seats.insert(*seat), "table twice in a slot");
                let o = orgs_in_slot.entry(seat.slot).or_default();
                prop_assert!(cand.listing_org != cand.demand_org);
                prop_assert!(o.insert(cand.listing_org), "org twice in a slot");
                prop_assert!(o.insert(cand.demand_org), "org twice in a slot");
                prop_assert!(pairs.insert((cand.listing_id, cand.demand_id)), "pair twice");
            }
            let placed: HashSet<usize> = got.iter().map(|(i, _)| *i).collect();
            for (i, cand) in cands.iter().enumerate() {
                if placed.contains(&i)
                    || cand.listing_org == cand.demand_org
                    || pairs.contains(&(cand.listing_id, cand.demand_id))
                {
                    continue;
                }
                for s in 0..slots {
                    let full = got.iter().filter(|(_, seat)| seat.slot == s).count() as u32 >= tables;
                    let o = orgs_in_slot.get(&s);
                    let clash = o.is_some_and(|o| o.contains(&cand.listing_org) || o.contains(&cand.demand_org));
                    prop_assert!(full || clash, "pair {:?} would fit in slot {}", cand, s);
                }
            }
            // Best first: the placement order never increases in score.
            for w in got.windows(2) {
                prop_assert!(cands[w[0].0].score >= cands[w[1].0].score);
            }
        }
    }
}
