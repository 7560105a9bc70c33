// rust_ledger.rs: the README's debugging story in Rust. Accounts keep their
// last transfers in a fixed-size history; recording a transfer writes through
// a raw pointer without a bounds check, so the fifth transfer of an account
// lands on its balance. The books stop balancing and the program aborts far
// from the write that broke them: a job for `watch -l` and reverse-continue.
use std::hint::black_box;

#[repr(C)]
struct Account {
    name: [u8; 8],
    history: [i64; 4], // last transfers; the index is not checked
    balance: i64,
}

#[inline(never)]
fn record_transfer(a: &mut Account, n: usize, amount: i64) {
    // BUG: n reaches 4, which is a.balance.
    unsafe { *a.history.as_mut_ptr().add(n) = amount };
}

#[inline(never)]
fn transfer(accounts: &mut [Account; 2], from: usize, to: usize, amount: i64, n: usize) {
    accounts[from].balance -= amount;
    accounts[to].balance += amount;
    record_transfer(&mut accounts[from], n, -amount);
    record_transfer(&mut accounts[to], n, amount);
}

fn main() {
    let mut accounts = [
        Account { name: *b"alice\0\0\0", history: [0; 4], balance: 100 },
        Account { name: *b"bob\0\0\0\0\0", history: [0; 4], balance: 50 },
    ];
    for n in 0..5 {
        transfer(black_box(&mut accounts), n % 2, (n + 1) % 2, 5 + n as i64, n);
    }
    let accounts = black_box(&accounts);
    let total: i64 = accounts.iter().map(|a| a.balance).sum();
    for a in accounts.iter() {
        let name = String::from_utf8_lossy(&a.name);
        println!("{:6} {:6}", name.trim_end_matches('\0'), a.balance);
    }
    if total != 150 {
        eprintln!("money was created or destroyed: total {}, expected 150", total);
        std::process::abort();
    }
    println!("books balance");
}
