//! Rows and keys as packed values, the format of `read-model.upsert-packed` and
//! `get-packed` (documented with `types.value` in `wit/weir.wit`): per value a tag byte
//! and its payload, little-endian. One buffer crosses the boundary per row, where a
//! `list<value>` costs an allocation per text value on each side.

use crate::Value;

/// Appends `values`, packed, to `out`.
#[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
pub(crate) fn encode(out: &mut Vec<u8>, values: &[Value]) {
    for v in values {
        match v {
            Value::Null => out.push(0),
            Value::Boolean(b) => out.extend_from_slice(&[1, u8::from(*b)]),
            Value::Integer(i) => {
                out.push(2);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Float(f) => {
                out.push(3);
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::Text(s) => counted(out, 4, s.as_bytes()),
            Value::Json(j) => counted(out, 5, j),
        }
    }
}

fn counted(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The values packed in `bytes` (as the host writes them), into `out`. `None` if the
/// bytes are not packed values.
#[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
pub(crate) fn decode(mut bytes: &[u8], out: &mut Vec<Value>) -> Option<()> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = bytes.split_at_checked(n)?;
        *bytes = rest;
        Some(head)
    }
    fn word(bytes: &mut &[u8]) -> Option<[u8; 8]> {
        take(bytes, 8)?.try_into().ok()
    }
    fn payload<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(take(bytes, 4)?.try_into().ok()?);
        take(bytes, len as usize)
    }
    while let Some((&tag, rest)) = bytes.split_first() {
        bytes = rest;
        out.push(match tag {
            0 => Value::Null,
            1 => Value::Boolean(match take(&mut bytes, 1)?[0] {
                0 => false,
                1 => true,
                _ => return None,
            }),
            2 => Value::Integer(i64::from_le_bytes(word(&mut bytes)?)),
            3 => Value::Float(f64::from_bits(u64::from_le_bytes(word(&mut bytes)?))),
            4 => Value::Text(String::from_utf8(payload(&mut bytes)?.to_vec()).ok()?),
            5 => Value::Json(payload(&mut bytes)?.to_vec()),
            _ => return None,
        });
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let values = vec![
            Value::Text("ord-1".into()),
            Value::Null,
            Value::Boolean(true),
            Value::Integer(-7),
            Value::Float(59.98),
            Value::Json(br#"{"a":1}"#.to_vec()),
            Value::Text(String::new()),
        ];
        let mut bytes = Vec::new();
        encode(&mut bytes, &values);
        // The layout the WIT documents, checked on the first two values (the host's
        // runtime/src/plugin/packed.rs checks the same bytes).
        assert_eq!(&bytes[..10], &[4, 5, 0, 0, 0, b'o', b'r', b'd', b'-', b'1']);
        assert_eq!(bytes[10], 0);
        let mut back = Vec::new();
        decode(&bytes, &mut back).unwrap();
        assert_eq!(back, values);
        assert_eq!(decode(&bytes[..bytes.len() - 1], &mut Vec::new()), None, "truncated");
        assert_eq!(decode(&[9], &mut Vec::new()), None, "unknown tag");
    }
}
