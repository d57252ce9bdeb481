//! Turns in the order tickets were drawn, for work that runs at once but must finish in order.
//!
//! The syslog input parses and encodes several batches at once, and a later one can be ready
//! before an earlier one. The stateful detectors must still see one stream's events in the order
//! they arrived: "five failed logins, then a success" read backwards is not a brute force.
//! So each batch draws a ticket when it is formed and runs detection only in its turn; the
//! parsing, encoding and storing before that stay parallel.

use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Hands out tickets and lets their holders through one at a time, in ticket order.
#[derive(Debug, Default)]
pub struct Turnstile {
    state: Mutex<Turns>,
    turned: Condvar,
}

#[derive(Debug, Default)]
struct Turns {
    /// The next ticket to draw.
    drawn: u64,
    /// Whose turn it is.
    next: u64,
    /// Tickets given up before their turn, skipped when it comes (a task that failed before
    /// waiting must not hold the others up for ever).
    given_up: BTreeSet<u64>,
}

impl Turns {
    /// Ends the current turn, passing over tickets given up.
    fn advance(&mut self) {
        self.next += 1;
        while self.given_up.remove(&self.next) {
            self.next += 1;
        }
    }
}

impl Turnstile {
    /// A turnstile whose first ticket is next.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Turns> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next ticket; its turn comes after every ticket drawn before it.
    pub fn ticket(self: &Arc<Self>) -> Ticket {
        let mut turns = self.lock();
        let number = turns.drawn;
        turns.drawn += 1;
        Ticket { number, turnstile: Some(Arc::clone(self)) }
    }
}

/// A place in the line. Dropping it without waiting gives the place up.
#[derive(Debug)]
#[must_use = "a ticket not waited on is given up"]
pub struct Ticket {
    number: u64,
    turnstile: Option<Arc<Turnstile>>,
}

impl Ticket {
    /// Blocks until every earlier ticket has had its turn or was given up; the turn lasts
    /// until the returned guard is dropped.
    pub fn wait(mut self) -> Turn {
        let turnstile = self.turnstile.take().expect("a ticket is waited on once");
        let mut turns = turnstile.lock();
        while turns.next != self.number {
            turns = turnstile.turned.wait(turns).unwrap_or_else(PoisonError::into_inner);
        }
        drop(turns);
        Turn { turnstile }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(turnstile) = self.turnstile.take() else { return };
        let mut turns = turnstile.lock();
        if turns.next == self.number {
            turns.advance();
            turnstile.turned.notify_all();
        } else {
            turns.given_up.insert(self.number);
        }
    }
}

/// The holder's turn; the next ticket's turn comes when this is dropped (also on unwinding).
#[derive(Debug)]
pub struct Turn {
    turnstile: Arc<Turnstile>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.turnstile.lock().advance();
        self.turnstile.turned.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// Threads that reach their turn in the reverse order of their tickets still go through in
    /// ticket order.
    #[test]
    fn turns_follow_ticket_order() {
        let turnstile = Turnstile::new();
        let tickets: Vec<Ticket> = (0..8).map(|_| turnstile.ticket()).collect();
        let order = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = tickets
            .into_iter()
            .enumerate()
            .rev()
            .map(|(index, ticket)| {
                let order = Arc::clone(&order);
                // Later tickets start first.
                std::thread::sleep(Duration::from_millis(5));
                std::thread::spawn(move || {
                    let _turn = ticket.wait();
                    order.lock().unwrap().push(index);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    /// A ticket given up, before or during the turns of others, is passed over.
    #[test]
    fn given_up_tickets_are_skipped() {
        let turnstile = Turnstile::new();
        let first = turnstile.ticket();
        let second = turnstile.ticket();
        let third = turnstile.ticket();
        let fourth = turnstile.ticket();
        drop(second);
        drop(third);
        drop(first.wait());
        // Would block for ever if the given-up tickets were waited for.
        let (done, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(fourth.wait());
            done.send(()).unwrap();
        });
        received.recv_timeout(Duration::from_secs(10)).expect("the fourth ticket got its turn");
        // Giving up the ticket whose turn it is passes the turn on.
        let fifth = turnstile.ticket();
        let sixth = turnstile.ticket();
        drop(fifth);
        drop(sixth.wait());
    }

    /// A turn ends when its holder panics.
    #[test]
    fn a_panic_ends_the_turn() {
        let turnstile = Turnstile::new();
        let first = turnstile.ticket();
        let second = turnstile.ticket();
        let panicked = std::thread::spawn(move || {
            let _turn = first.wait();
            panic!("a failing append");
        })
        .join();
        assert!(panicked.is_err());
        drop(second.wait());
    }
}
