//! The seed APIs other than Emporix, as thin translations onto the same
//! services: Moltin v1 customer tokens (`moltin`) and the retailer
//! `customers/self` API (`retailer`). Nothing here holds a rule of its own:
//! throttling, enumeration safety, credential epochs and mail caps are the
//! services' and hold in every dialect.

pub mod moltin;
pub mod retailer;
