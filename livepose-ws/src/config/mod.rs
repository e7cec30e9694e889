//! What the server is told: [`ServeOptions`] (what a front end sets, its defaults and
//! checks) and [`ServerConfig`] (built from checked options, or from the defaults by setters,
//! plus what only Rust code sets). `options` names nothing of `server`: the configuration is
//! built from the options, in `server`.

mod options;
mod server;

pub use options::ServeOptions;
pub use server::ServerConfig;

#[cfg(test)]
mod tests;
