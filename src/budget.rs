//! Work on files in parallel, each within a time budget. A file that takes longer is
//! given up on: its outcome is `TimedOut`, and a fresh worker takes over the rest of
//! the queue from the one still busy with it (a thread cannot be stopped; it is
//! abandoned, and ends with the process). A panic in the work is caught and becomes
//! `Crashed` for that file alone. Workers are long-lived, so each file reuses a warm
//! thread and stack.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

pub enum Outcome<T> {
    Done(T),
    TimedOut,
    Crashed,
}

enum Event<T> {
    Started {
        worker: usize,
        job: usize,
    },
    Finished {
        worker: usize,
        job: usize,
        outcome: Outcome<T>,
    },
}

struct Worker {
    /// The job it is on, and since when.
    busy: Option<(usize, Instant)>,
    abandoned: Arc<AtomicBool>,
}

/// Runs `work` on every job with `threads` workers of `stack` bytes, and returns the
/// outcomes in job order. `done` is called once per job as its outcome is known.
pub fn run<J, T>(
    jobs: Vec<J>,
    threads: usize,
    stack: usize,
    budget: Duration,
    work: impl Fn(&J) -> T + Send + Sync + 'static,
    done: impl Fn(),
) -> Vec<Outcome<T>>
where
    J: Send + Sync + 'static,
    T: Send + 'static,
{
    let total = jobs.len();
    let jobs = Arc::new(jobs);
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let (sender, receiver) = mpsc::channel();
    let spawn = |id: usize| -> Option<Worker> {
        let abandoned = Arc::new(AtomicBool::new(false));
        let (jobs, work, next, sender, flag) = (
            Arc::clone(&jobs),
            Arc::clone(&work),
            Arc::clone(&next),
            sender.clone(),
            Arc::clone(&abandoned),
        );
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    let job = next.fetch_add(1, Ordering::SeqCst);
                    if job >= jobs.len() {
                        break;
                    }
                    if sender.send(Event::Started { worker: id, job }).is_err() {
                        break;
                    }
                    let outcome = match catch_unwind(AssertUnwindSafe(|| work(&jobs[job]))) {
                        Ok(result) => Outcome::Done(result),
                        Err(_) => Outcome::Crashed,
                    };
                    let finished = Event::Finished {
                        worker: id,
                        job,
                        outcome,
                    };
                    if sender.send(finished).is_err() {
                        break;
                    }
                }
            })
            .ok()
            .map(|_| Worker {
                busy: None,
                abandoned,
            })
    };
    let mut workers: Vec<Worker> = (0..threads.clamp(1, total.max(1)))
        .filter_map(&spawn)
        .collect();
    if workers.is_empty() {
        // No thread to spare: work here, without a budget.
        return jobs.iter().map(|job| Outcome::Done(work(job))).collect();
    }
    let mut outcomes: Vec<Option<Outcome<T>>> = (0..total).map(|_| None).collect();
    let mut remaining = total;
    while remaining > 0 {
        let deadline = workers
            .iter()
            .filter_map(|w| w.busy.map(|(_, since)| since + budget))
            .min();
        let event = match deadline {
            Some(at) => receiver.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => receiver
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Started { worker, job }) => {
                workers[worker].busy = Some((job, Instant::now()));
            }
            Ok(Event::Finished {
                worker,
                job,
                outcome,
            }) => {
                workers[worker].busy = None;
                // A job given up on keeps its `TimedOut`.
                if outcomes[job].is_none() {
                    outcomes[job] = Some(outcome);
                    remaining -= 1;
                    done();
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                for index in 0..workers.len() {
                    let Some((job, since)) = workers[index].busy else {
                        continue;
                    };
                    if since + budget > now {
                        continue;
                    }
                    workers[index].busy = None;
                    outcomes[job] = Some(Outcome::TimedOut);
                    remaining -= 1;
                    done();
                    // A worker that finished just before and took another job before
                    // the flag was seen still reports that job; it was replaced once.
                    if !workers[index].abandoned.swap(true, Ordering::SeqCst) {
                        let id = workers.len();
                        if let Some(fresh) = spawn(id) {
                            workers.push(fresh);
                        }
                    }
                }
            }
            // Every worker is gone (none could be started): nothing more will come.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Crashed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{run, Outcome};
    use std::time::Duration;

    #[test]
    fn slow_and_crashing_jobs_are_given_up_and_the_rest_done_in_order() {
        // The slow job sleeps ten budgets; a budget is far more than the others need even
        // on a loaded machine (a panic's message and backtrace included).
        let jobs: Vec<u64> = vec![1, 30_000, 2, 0, 3, 4];
        let outcomes = run(
            jobs,
            2,
            1 << 20,
            Duration::from_secs(3),
            |&job: &u64| {
                if job == 0 {
                    panic!("a crash in one file");
                }
                std::thread::sleep(Duration::from_millis(job));
                job * 10
            },
            || {},
        );
        let seen: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                Outcome::Done(v) => v.to_string(),
                Outcome::TimedOut => "timed out".to_string(),
                Outcome::Crashed => "crashed".to_string(),
            })
            .collect();
        assert_eq!(seen, ["10", "timed out", "20", "crashed", "30", "40"]);
    }
}
