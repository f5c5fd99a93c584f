//! When the later phases of a crawl may start, decided from what is already known — so that no
//! phase waits for more than it needs, and the snapshot stays the same as if every phase waited
//! for everything.
//!
//! - Accounts are crawled as soon as `ListAccounts` lists them ([`selected`] decides which), not
//!   after the whole organization (units, tags, policies) is read.
//! - An account's resource-policy reads ([`PolicyQueue`]) start region by region: a resource is
//!   read once the region named in its ARN is done (its Tagging API answer, which decides
//!   whether it is read as tagged or as referenced, is then known), and the rest (S3 buckets,
//!   whose ARNs name no region, and resources in regions not crawled) once every region is done.
//!   Each resource is read once, with the same tagged/referenced decision as a single read after
//!   all regions would make.

use crate::arn::Arn;
use crate::model::Account;
use std::collections::BTreeSet;

/// Whether a listed account is crawled: active, and among `only` when that is given.
pub fn selected(account: &Account, only: Option<&[String]>) -> bool {
    account.status == "ACTIVE" && only.is_none_or(|o| o.contains(&account.id))
}

/// The resources of one account whose policies are to be read, released region by region.
#[derive(Debug, Default)]
pub struct PolicyQueue {
    regions: BTreeSet<String>,
    done: BTreeSet<String>,
    tagged: BTreeSet<String>,
    referenced: BTreeSet<String>,
    claimed: BTreeSet<String>,
}

/// Resources ready to be read: those the Tagging API reported, and those only referenced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub tagged: Vec<String>,
    pub referenced: Vec<String>,
}

impl PolicyQueue {
    /// A queue for an account crawled in `regions`.
    pub fn new(regions: &[String]) -> Self {
        PolicyQueue {
            regions: regions.iter().cloned().collect(),
            ..PolicyQueue::default()
        }
    }

    /// `region` is done: it reported `tagged` resources and its rules, functions and mappings
    /// reference `referenced` ones. Returns the resources that are now ready and not yet handed
    /// out.
    pub fn region_done(
        &mut self,
        region: &str,
        tagged: impl IntoIterator<Item = String>,
        referenced: impl IntoIterator<Item = String>,
    ) -> Batch {
        self.done.insert(region.to_string());
        self.tagged.extend(tagged);
        self.referenced.extend(referenced);
        let all_done = self.regions.iter().all(|r| self.done.contains(r));
        let ready = |arn: &str| {
            all_done
                || Arn::parse(arn)
                    .ok()
                    .and_then(|a| a.region())
                    .is_some_and(|r| self.regions.contains(r) && self.done.contains(r))
        };
        let mut batch = Batch::default();
        for arn in self.tagged.union(&self.referenced) {
            if self.claimed.contains(arn) || !ready(arn) {
                continue;
            }
            if self.tagged.contains(arn) {
                batch.tagged.push(arn.clone());
            } else {
                batch.referenced.push(arn.clone());
            }
        }
        self.claimed.extend(batch.tagged.iter().cloned());
        self.claimed.extend(batch.referenced.iter().cloned());
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    const WEST_QUEUE: &str = "arn:aws:sqs:eu-west-1:111111111111:orders";
    const CENTRAL_QUEUE: &str = "arn:aws:sqs:eu-central-1:111111111111:audit";
    const BUCKET: &str = "arn:aws:s3:::shared-111111111111";
    const ELSEWHERE: &str = "arn:aws:sns:us-east-1:111111111111:alerts";

    #[test]
    fn a_region_releases_its_own_resources_and_the_last_one_the_rest() {
        let mut q = PolicyQueue::new(&strings(&["eu-west-1", "eu-central-1"]));
        // eu-central-1 finishes first: it references the west queue (not ready: eu-west-1's
        // Tagging API has not answered), the bucket (no region) and a topic in a region not
        // crawled; only its own queue is read now.
        let first = q.region_done(
            "eu-central-1",
            strings(&[CENTRAL_QUEUE]),
            strings(&[WEST_QUEUE, BUCKET, ELSEWHERE]),
        );
        assert_eq!(
            first,
            Batch {
                tagged: strings(&[CENTRAL_QUEUE]),
                referenced: vec![],
            }
        );
        // eu-west-1 reports the west queue tagged: it is read as tagged, not as referenced; the
        // bucket and the topic come with the last region.
        let last = q.region_done("eu-west-1", strings(&[WEST_QUEUE, BUCKET]), strings(&[CENTRAL_QUEUE]));
        assert_eq!(
            last,
            Batch {
                tagged: strings(&[BUCKET, WEST_QUEUE]),
                referenced: strings(&[ELSEWHERE]),
            }
        );
    }

    #[test]
    fn every_resource_is_handed_out_once_as_one_read_after_all_regions_would() {
        let regions = strings(&["eu-west-1", "eu-central-1", "us-east-1"]);
        let reports: [(&str, &[&str], &[&str]); 3] = [
            ("us-east-1", &[ELSEWHERE], &[WEST_QUEUE]),
            ("eu-west-1", &[WEST_QUEUE], &[CENTRAL_QUEUE, BUCKET, ELSEWHERE]),
            ("eu-central-1", &[], &[CENTRAL_QUEUE, WEST_QUEUE]),
        ];
        let mut q = PolicyQueue::new(&regions);
        let mut tagged = BTreeSet::new();
        let mut referenced = BTreeSet::new();
        for (region, t, r) in reports {
            let batch = q.region_done(region, strings(t), strings(r));
            for arn in batch.tagged {
                assert!(tagged.insert(arn.clone()) && !referenced.contains(&arn), "{arn} twice");
            }
            for arn in batch.referenced {
                assert!(referenced.insert(arn.clone()) && !tagged.contains(&arn), "{arn} twice");
            }
        }
        // One read after all regions: tagged = every tagged ARN, referenced = the rest.
        assert_eq!(tagged, [ELSEWHERE, WEST_QUEUE].map(String::from).into());
        assert_eq!(referenced, [BUCKET, CENTRAL_QUEUE].map(String::from).into());
        // Near miss: nothing is left for a region reported twice.
        assert_eq!(q.region_done("eu-west-1", vec![], vec![]), Batch::default());
    }

    #[test]
    fn accounts_are_selected_when_active_and_requested() {
        let account = |id: &str, status: &str| Account {
            id: id.to_string(),
            name: id.to_string(),
            status: status.to_string(),
            parent: None,
            tags: Default::default(),
        };
        let only = strings(&["111111111111"]);
        assert!(selected(&account("111111111111", "ACTIVE"), None));
        assert!(selected(&account("111111111111", "ACTIVE"), Some(&only)));
        assert!(!selected(&account("222222222222", "ACTIVE"), Some(&only)));
        assert!(!selected(&account("111111111111", "SUSPENDED"), None));
    }
}
