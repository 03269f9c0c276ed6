//! IPv4 CIDR arithmetic for the VPC and the subnets carved from it.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 CIDR block with no host bits set, e.g. `10.40.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The block's first address.
    pub addr: Ipv4Addr,
    /// Prefix length, 0-32.
    pub prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR block (write e.g. \"10.40.0.0/16\")"))?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{prefix:?} is not a prefix length 0-32"))?;
        let cidr = Cidr { addr, prefix };
        if cidr.network() != addr {
            return Err(format!(
                "{s} has host bits set; the network is {}",
                Cidr {
                    addr: cidr.network(),
                    prefix
                }
            ));
        }
        Ok(cidr)
    }
}

impl Cidr {
    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }
    /// `addr` with the host bits cleared.
    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }
    /// The `index`-th subnet of `new_prefix` inside this block, if it fits.
    pub fn subnet(self, new_prefix: u8, index: u32) -> Option<Cidr> {
        if new_prefix < self.prefix || new_prefix > 32 {
            return None;
        }
        let bits = u32::from(new_prefix - self.prefix);
        if bits < 32 && index >= (1u32 << bits) {
            return None;
        }
        let step = if new_prefix == 32 {
            1
        } else {
            1u32 << (32 - new_prefix)
        };
        let base = u32::from(self.network()).checked_add(index.checked_mul(step)?)?;
        Some(Cidr {
            addr: Ipv4Addr::from(base),
            prefix: new_prefix,
        })
    }
    /// Whether the block's address is private (RFC 1918: 10/8, 172.16/12, 192.168/16).
    pub fn is_private(self) -> bool {
        self.addr.is_private()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Subnets are carved four bits below the VPC (/16 → /20: sixteen subnets of 4,096 addresses).
pub const SUBNET_BITS: u8 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_carves_subnets() {
        let vpc: Cidr = "10.40.0.0/16".parse().unwrap();
        assert_eq!(vpc.subnet(20, 0).unwrap().to_string(), "10.40.0.0/20");
        assert_eq!(vpc.subnet(20, 1).unwrap().to_string(), "10.40.16.0/20");
        assert_eq!(vpc.subnet(20, 15).unwrap().to_string(), "10.40.240.0/20");
        assert!(vpc.subnet(20, 16).is_none());
    }

    #[test]
    fn rejects_malformed_blocks() {
        assert!("10.40.0.0".parse::<Cidr>().is_err());
        assert!("10.40.0.0/33".parse::<Cidr>().is_err());
        assert!("10.400.0.0/16".parse::<Cidr>().is_err());
        let e = "10.40.1.0/16".parse::<Cidr>().unwrap_err();
        assert!(e.contains("10.40.0.0/16"), "{e}");
    }
}
