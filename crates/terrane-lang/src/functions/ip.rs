//! IP network functions (`cidrhost`, `cidrnetmask`, `cidrsubnet`,
//! `cidrsubnets`), with the arithmetic Terraform's CIDR helpers use.

use std::net::{Ipv4Addr, Ipv6Addr};

use num_bigint::{BigInt, Sign};
use num_traits::{Signed, Zero};
use terrane_value::{Type, Value};

use super::{
    arg_err, call_err, num_arg, str_arg, t_list_string, t_string, to_int, FnResult,
    FunctionContext, FunctionError, Param, Spec,
};

pub(crate) fn spec(name: &str) -> Option<Spec> {
    let s = |n: &'static str| Param::new(n, Type::String);
    let n = |n: &'static str| Param::new(n, Type::Number);
    Some(match name {
        "cidrhost" => Spec::new(vec![s("prefix"), n("hostnum")], t_string, cidrhost),
        "cidrnetmask" => Spec::new(vec![s("prefix")], t_string, cidrnetmask),
        "cidrsubnet" => Spec::new(
            vec![s("prefix"), n("newbits"), n("netnum")],
            t_string,
            cidrsubnet,
        ),
        "cidrsubnets" => {
            Spec::new(vec![s("prefix")], t_list_string, cidrsubnets).variadic(n("newbits"))
        }
        _ => return None,
    })
}

/// A parsed network as Go's `net.ParseCIDR` returns it: the masked
/// address (4 bytes for IPv4, 16 for IPv6), the prefix length and the
/// address length in bits.
#[derive(Clone, Debug)]
struct Net {
    ip: Vec<u8>,
    prefix: u32,
    bits: u32,
}

fn parse_cidr(s: &str) -> Result<Net, FunctionError> {
    let bad = || {
        FunctionError::call(format!(
            "invalid CIDR expression: invalid CIDR address: {s}"
        ))
    };
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let prefix: u32 = len.parse().map_err(|_| bad())?;
    let (ip, bits) = if let Some(v4) = parse_ipv4(addr) {
        (v4.octets().to_vec(), 32)
    } else if addr.contains(':') {
        let v6: Ipv6Addr = addr.parse().map_err(|_| bad())?;
        (v6.octets().to_vec(), 128)
    } else {
        return Err(bad());
    };
    if prefix > bits {
        return Err(bad());
    }
    let mut ip = ip;
    for (i, b) in ip.iter_mut().enumerate() {
        let keep = prefix.saturating_sub(i as u32 * 8).min(8);
        let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        *b &= mask;
    }
    Ok(Net { ip, prefix, bits })
}

/// Dotted-decimal IPv4 as Go 1.16 accepts it (leading zeros allowed).
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut o = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        o[i] = p.parse().ok()?;
    }
    Some(Ipv4Addr::from(o))
}

fn to_int_bytes(ip: &[u8]) -> BigInt {
    BigInt::from_bytes_be(Sign::Plus, ip)
}

/// Go's `big.Int.Bytes` of the magnitude, right-aligned into `len` bytes.
fn from_int(v: &BigInt, len: usize) -> Result<Vec<u8>, FunctionError> {
    let (_, mag) = v.to_bytes_be();
    if mag.len() > len {
        return call_err("address arithmetic overflowed the address size");
    }
    let mut out = vec![0u8; len];
    let off = len - mag.len();
    out[off..].copy_from_slice(&mag);
    if v.is_zero() {
        out.iter_mut().for_each(|b| *b = 0);
    }
    Ok(out)
}

fn ip_string(ip: &[u8]) -> String {
    if ip.len() == 4 {
        return Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string();
    }
    let mut o = [0u8; 16];
    o.copy_from_slice(&ip[..16]);
    let v6 = Ipv6Addr::from(o);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return v4.to_string();
    }
    v6.to_string()
}

fn net_string(ip: &[u8], prefix: u32) -> String {
    format!("{}/{}", ip_string(ip), prefix)
}

/// Go's `uint64(1<<uint64(n)) - 1` (shifts of 64 or more give zero).
fn max_num(bits: i64) -> u64 {
    let p = if !(0..64).contains(&bits) {
        0u64
    } else {
        1u64 << bits
    };
    p.wrapping_sub(1)
}

/// Low 64 bits of the magnitude (Go's `big.Int.Uint64`).
fn low_u64(v: &BigInt) -> u64 {
    let (_, digits) = v.to_u64_digits();
    digits.first().copied().unwrap_or(0)
}

fn insert_num(ip: &[u8], num: &BigInt, prefix_len: i64) -> Result<Vec<u8>, FunctionError> {
    let total = (ip.len() * 8) as i64;
    let shift = total - prefix_len;
    let shifted = if shift >= 0 {
        if shift > 4096 {
            return call_err("address arithmetic overflowed the address size");
        }
        num << (shift as usize)
    } else {
        num >> ((-shift) as usize)
    };
    let v = to_int_bytes(ip) | shifted;
    from_int(&v, ip.len())
}

fn whole_big(a: &[Value], i: usize) -> Result<BigInt, FunctionError> {
    let n = num_arg(a, i);
    if !n.is_integer() {
        return call_err("value must be a whole number");
    }
    n.to_bigint()
        .ok_or_else(|| FunctionError::call("value must be a whole number"))
}

fn cidrhost(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut num = whole_big(a, 1)?;
    let net = parse_cidr(str_arg(a, 0))?;
    let host_len = net.bits - net.prefix;
    let max = (BigInt::from(1) << host_len as usize) - 1;
    let mut check = BigInt::from(low_u64(&num));
    if num.is_negative() {
        check = -&num - 1;
        num = &max - &check;
    }
    if check > max {
        return call_err(format!(
            "prefix of {} does not accommodate a host numbered {num}",
            net.prefix
        ));
    }
    // an IPv4-mapped IPv6 network counts as IPv4 (32 bits)
    let mapped = net.bits == 128
        && net.ip[..10].iter().all(|&b| b == 0)
        && net.ip[10] == 0xff
        && net.ip[11] == 0xff;
    let bitlength = if net.bits == 32 || mapped { 32 } else { 128 };
    let ip = insert_num(&net.ip, &num, bitlength)?;
    Ok(Value::string(ip_string(&ip)))
}

fn cidrnetmask(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let net = parse_cidr(str_arg(a, 0))?;
    let len = (net.bits / 8) as usize;
    let mut mask = vec![0u8; len];
    for (i, b) in mask.iter_mut().enumerate() {
        let keep = net.prefix.saturating_sub(i as u32 * 8).min(8);
        *b = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
    }
    if len == 16 {
        let mut o = [0u8; 16];
        o.copy_from_slice(&mask);
        return Ok(Value::string(Ipv6Addr::from(o).to_string()));
    }
    Ok(Value::string(ip_string(&mask)))
}

fn cidrsubnet(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let newbits = to_int(&num_arg(a, 1)).map_err(FunctionError::call)?;
    let num = whole_big(a, 2)?;
    let net = parse_cidr(str_arg(a, 0))?;
    let new_prefix = net.prefix as i64 + newbits;
    if new_prefix > net.bits as i64 {
        return call_err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            net.prefix
        ));
    }
    if low_u64(&num) > max_num(newbits) {
        return call_err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {num}"
        ));
    }
    let ip = insert_num(&net.ip, &num, new_prefix)?;
    Ok(Value::string(net_string(&ip, new_prefix.max(0) as u32)))
}

fn mask_ip(ip: &[u8], prefix: u32) -> Vec<u8> {
    ip.iter()
        .enumerate()
        .map(|(i, b)| {
            let keep = prefix.saturating_sub(i as u32 * 8).min(8);
            if keep == 0 {
                0
            } else {
                b & (0xffu8 << (8 - keep))
            }
        })
        .collect()
}

fn add_one(ip: &[u8], delta: i64) -> Vec<u8> {
    let len = ip.len();
    let modulus = BigInt::from(1) << (len * 8);
    let v = ((to_int_bytes(ip) + delta) % &modulus + &modulus) % &modulus;
    from_int(&v, len).unwrap_or_else(|_| vec![0; len])
}

/// The last address of a network.
fn last_address(ip: &[u8], prefix: u32) -> Vec<u8> {
    ip.iter()
        .enumerate()
        .map(|(i, b)| {
            let keep = prefix.saturating_sub(i as u32 * 8).min(8);
            let host = if keep == 8 { 0 } else { 0xffu8 >> keep };
            b | host
        })
        .collect()
}

fn cidrsubnets(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let net = parse_cidr(str_arg(a, 0))?;
    let lens = &a[1..];
    if lens.is_empty() {
        return Ok(Value::list_empty(Type::String));
    }
    let first = to_int(&num_arg(a, 1)).map_err(|e| FunctionError::arg(1, e))?;
    let first_len = (first + net.prefix as i64).clamp(0, net.bits as i64) as u32;
    // the subnet just before the network (Go's cidr.PreviousSubnet)
    let prev = add_one(&net.ip, -1);
    let mut cur_ip = mask_ip(&prev, first_len);
    let mut cur_len = first_len;
    let mut out = Vec::with_capacity(lens.len());
    for i in 0..lens.len() {
        let l = to_int(&num_arg(a, i + 1)).map_err(|e| FunctionError::arg(i + 1, e))?;
        if l < 1 {
            return arg_err(i + 1, "must extend prefix by at least one bit");
        }
        if l > 32 {
            return arg_err(i + 1, "may not extend prefix by more than 32 bits");
        }
        let length = l + net.prefix as i64;
        if length > net.bits as i64 {
            let proto = if net.bits == 32 { "IPv4" } else { "IPv6" };
            return arg_err(
                i + 1,
                format!("would extend prefix to {length} bits, which is too long for an {proto} address"),
            );
        }
        let length = length as u32;
        // Go's cidr.NextSubnet
        let cur_last = last_address(&cur_ip, cur_len);
        let sub = mask_ip(&cur_last, length);
        let last = last_address(&sub, length);
        let next_first = add_one(&last, 1);
        let rollover = next_first.iter().all(|&b| b == 0);
        let next = mask_ip(&next_first, length);
        let contained = mask_ip(&next, net.prefix) == net.ip;
        if rollover || !contained {
            return arg_err(
                i + 1,
                format!(
                    "not enough remaining address space for a subnet with a prefix of {length} bits after {}",
                    net_string(&cur_ip, cur_len)
                ),
            );
        }
        cur_ip = next;
        cur_len = length;
        out.push(Value::string(net_string(&cur_ip, cur_len)));
    }
    Ok(Value::list(Type::String, out))
}

#[cfg(test)]
mod tests {
    use super::super::{call, FunctionContext};
    use terrane_value::{format_console, Value};

    fn run(name: &str, args: Vec<Value>) -> String {
        match call(name, args, &FunctionContext::default()) {
            Ok(v) => format_console(&v),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn cidr() {
        let st = Value::string;
        let n = Value::from_i64;
        assert_eq!(
            run("cidrhost", vec![st("10.12.112.0/20"), n(16)]),
            "\"10.12.112.16\""
        );
        assert_eq!(
            run("cidrhost", vec![st("10.0.0.0/8"), n(-1)]),
            "\"10.255.255.255\""
        );
        assert_eq!(
            run("cidrhost", vec![st("fd00:fd12:3456:7890:00a2::/72"), n(34)]),
            "\"fd00:fd12:3456:7890::22\""
        );
        assert_eq!(
            run("cidrhost", vec![st("::ffff:10.0.0.0/104"), n(5)]),
            "\"0:5::ffff:a00:0\""
        );
        assert_eq!(
            run("cidrhost", vec![st("10.0.0.1"), n(1)]),
            "ERR invalid CIDR expression: invalid CIDR address: 10.0.0.1"
        );
        assert_eq!(
            run("cidrsubnet", vec![st("10.0.0.1/24"), n(2), n(1)]),
            "\"10.0.0.64/26\""
        );
        assert_eq!(
            run("cidrsubnet", vec![st("10.0.0.0/8"), n(4), n(-1)]),
            "\"0.16.0.0/12\""
        );
        assert_eq!(
            run("cidrsubnet", vec![st("10.0.0.0/8"), n(-1), n(0)]),
            "\"10.0.0.0/7\""
        );
        assert_eq!(
            run("cidrsubnet", vec![st("10.0.0.0/30"), n(3), n(0)]),
            "ERR insufficient address space to extend prefix of 30 by 3"
        );
        assert_eq!(
            run("cidrnetmask", vec![st("fd00::/64")]),
            "\"ffff:ffff:ffff:ffff::\""
        );
        assert_eq!(
            run("cidrsubnets", vec![st("fd00:fd12:3456:7890::/56"), n(16), n(16), n(16), n(32)]),
            "tolist([\n  \"fd00:fd12:3456:7800::/72\",\n  \"fd00:fd12:3456:7800:100::/72\",\n  \"fd00:fd12:3456:7800:200::/72\",\n  \"fd00:fd12:3456:7800:300::/88\",\n])"
        );
        assert_eq!(
            run("cidrsubnets", vec![st("0.0.0.0/0"), n(8)]),
            "ERR argument 1: not enough remaining address space for a subnet with a prefix of 8 bits after 255.0.0.0/8"
        );
        assert_eq!(
            run("cidrsubnets", vec![st("10.1.0.0/30"), n(1), n(1), n(1)]),
            "ERR argument 3: not enough remaining address space for a subnet with a prefix of 31 bits after 10.1.0.2/31"
        );
    }
}
