//! The protobuf wire format as ONNX files use it: varints, field tags, and a reader that
//! splits a message into its fields (bounds-checked: malformed bytes are a
//! [`GraphError::Malformed`], never a panic). Shared by the reader ([`super::graph`]) and
//! the writer ([`super::writer`]).

use super::GraphError;

/// Protobuf wire types used by ONNX.
pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const FIXED32: u8 = 5;

/// One protobuf field: its number, wire type, the whole encoding (tag included) and, for
/// length-delimited fields, the payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    pub(crate) wire: u8,
    pub(crate) raw: &'a [u8],
    pub(crate) payload: &'a [u8],
}

/// Reads the varint at `*pos`, advancing `*pos` past it.
pub(crate) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, GraphError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf
            .get(*pos)
            .ok_or(GraphError::Malformed("truncated varint"))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(GraphError::Malformed("varint longer than 10 bytes"))
}

/// Appends `value` as a varint.
pub(crate) fn write_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the tag of field `number` with wire type `wire`.
pub(crate) fn tag(number: u32, wire: u8, out: &mut Vec<u8>) {
    write_varint(u64::from(number) << 3 | u64::from(wire), out);
}

/// Appends a length-delimited field (a string, bytes, a message or a packed array).
pub(crate) fn bytes_field(number: u32, payload: &[u8], out: &mut Vec<u8>) {
    tag(number, LEN, out);
    write_varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Appends a varint field holding `value` (negative values as ten-byte two's complement).
pub(crate) fn int_field(number: u32, value: i64, out: &mut Vec<u8>) {
    tag(number, VARINT, out);
    write_varint(value as u64, out);
}

/// Appends a packed repeated varint field.
pub(crate) fn packed_ints(number: u32, values: &[i64], out: &mut Vec<u8>) {
    let mut payload = Vec::new();
    for &v in values {
        write_varint(v as u64, &mut payload);
    }
    bytes_field(number, &payload, out);
}

/// The fields of one message.
pub(crate) fn fields(buf: &[u8]) -> Result<Vec<Field<'_>>, GraphError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let tag = read_varint(buf, &mut pos)?;
        let number = u32::try_from(tag >> 3).map_err(|_| GraphError::Malformed("field number"))?;
        let wire = (tag & 7) as u8;
        let (payload_start, payload_len) = match wire {
            VARINT => {
                read_varint(buf, &mut pos)?;
                (pos, 0)
            }
            FIXED64 => (pos, 8),
            FIXED32 => (pos, 4),
            LEN => {
                let len = read_varint(buf, &mut pos)?;
                let len = usize::try_from(len).map_err(|_| GraphError::Malformed("length"))?;
                (pos, len)
            }
            _ => return Err(GraphError::Malformed("unsupported wire type")),
        };
        let end = payload_start
            .checked_add(payload_len)
            .filter(|end| *end <= buf.len())
            .ok_or(GraphError::Malformed("field runs past the end"))?;
        pos = end;
        if number == 0 {
            return Err(GraphError::Malformed("field number 0"));
        }
        out.push(Field {
            number,
            wire,
            raw: &buf[start..end],
            payload: &buf[payload_start..end],
        });
    }
    Ok(out)
}

/// The string fields numbered `number` of a message.
pub(crate) fn strings(message: &[u8], number: u32) -> Result<Vec<&[u8]>, GraphError> {
    Ok(fields(message)?
        .into_iter()
        .filter(|f| f.number == number && f.wire == LEN)
        .map(|f| f.payload)
        .collect())
}

/// The first string field numbered `number` (a name), or empty.
pub(crate) fn name(message: &[u8], number: u32) -> Result<&[u8], GraphError> {
    Ok(strings(message, number)?
        .first()
        .copied()
        .unwrap_or_default())
}

/// The value of a varint field.
pub(crate) fn varint(field: &Field<'_>) -> Result<u64, GraphError> {
    let mut pos = 0;
    read_varint(field.raw, &mut pos)?; // the tag
    read_varint(field.raw, &mut pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            write_varint(value, &mut buf);
            let mut pos = 0;
            assert_eq!(read_varint(&buf, &mut pos), Ok(value));
            assert_eq!(pos, buf.len());
        }
        let mut pos = 0;
        assert!(read_varint(&[0x80], &mut pos).is_err());
    }

    #[test]
    fn fields_read_what_the_writers_wrote() {
        let mut m = Vec::new();
        int_field(1, -1, &mut m);
        bytes_field(2, b"name", &mut m);
        packed_ints(3, &[1, 300], &mut m);
        let f = fields(&m).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(varint(&f[0]).unwrap(), u64::MAX);
        assert_eq!(name(&m, 2).unwrap(), b"name");
        assert_eq!(f[2].payload, [0x01, 0xac, 0x02]);
    }
}
