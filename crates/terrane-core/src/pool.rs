//! A fixed set of worker threads for provider calls (`-parallelism`).
//!
//! Providers are blocking (`Send + Sync`), so each operation holds one
//! worker for its whole duration: at most `parallelism` provider
//! operations run at once, as in Terraform. With a parallelism of 1 there
//! are no threads at all and jobs run where they are submitted, so the
//! sequential path pays nothing for the machinery.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

/// One unit of work: a provider operation on one instance.
pub(crate) type Job<'a> = Box<dyn FnOnce() + Send + 'a>;

pub(crate) struct Pool<'a> {
    /// `None`: run jobs inline.
    sender: Option<Sender<Job<'a>>>,
    workers: usize,
}

impl<'a> Pool<'a> {
    /// A pool that runs every job on the submitting thread.
    pub fn inline() -> Pool<'a> {
        Pool {
            sender: None,
            workers: 1,
        }
    }

    /// Starts `workers` threads in `scope`; they end when the pool is
    /// dropped and the queue is drained.
    pub fn start<'s>(scope: &'s Scope<'s, '_>, workers: usize) -> Pool<'a>
    where
        'a: 's,
    {
        if workers <= 1 {
            return Pool::inline();
        }
        let (sender, receiver) = mpsc::channel::<Job<'a>>();
        let receiver: Arc<Mutex<Receiver<Job<'a>>>> = Arc::new(Mutex::new(receiver));
        for _ in 0..workers {
            let receiver = Arc::clone(&receiver);
            scope.spawn(move || loop {
                let job = match receiver.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
        }
        Pool {
            sender: Some(sender),
            workers,
        }
    }

    /// How many jobs can run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn submit(&self, job: Job<'a>) {
        match &self.sender {
            Some(sender) => {
                // The workers only stop once the pool is dropped, so a send
                // cannot fail while `self` exists; run the job here if it
                // somehow does.
                if let Err(mpsc::SendError(job)) = sender.send(job) {
                    job()
                }
            }
            None => job(),
        }
    }
}
