//! A bounds-checked reader of FlatBuffers binaries (the TFLite file format): tables with
//! their vtables, scalars, nested tables, vectors and strings. Every offset is checked
//! against the buffer, so a malformed or truncated file gives an error, never a panic or
//! a read outside the buffer.

use super::TfliteError;

fn malformed(what: impl Into<String>) -> TfliteError {
    TfliteError::Malformed(what.into())
}

fn read<const N: usize>(buf: &[u8], at: usize, what: &str) -> Result<[u8; N], TfliteError> {
    at.checked_add(N)
        .and_then(|end| buf.get(at..end))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            malformed(format!(
                "{what} at byte {at} lies outside the {}-byte file",
                buf.len()
            ))
        })
}

fn u32_at(buf: &[u8], at: usize, what: &str) -> Result<u32, TfliteError> {
    read::<4>(buf, at, what).map(u32::from_le_bytes)
}

/// The position an unsigned offset stored at `at` points to.
fn follow(buf: &[u8], at: usize, what: &str) -> Result<usize, TfliteError> {
    let offset = u32_at(buf, at, what)? as usize;
    at.checked_add(offset)
        .filter(|&p| p < buf.len())
        .ok_or_else(|| malformed(format!("{what} at byte {at} points outside the file")))
}

/// A scalar type stored little-endian in a table.
pub trait Scalar: Sized + Copy {
    /// Reads the value at `at`.
    fn read(buf: &[u8], at: usize, what: &str) -> Result<Self, TfliteError>;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn read(buf: &[u8], at: usize, what: &str) -> Result<Self, TfliteError> {
                read::<{ std::mem::size_of::<$t>() }>(buf, at, what).map(<$t>::from_le_bytes)
            }
        }
    )*};
}
scalar!(u8, i8, u16, i32, u32, u64, f32);

/// A table: a position in the buffer and its vtable.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    fields: usize,
}

impl<'a> Table<'a> {
    /// The root table of a FlatBuffers binary.
    pub fn root(buf: &'a [u8]) -> Result<Self, TfliteError> {
        Table::at(buf, follow(buf, 0, "root offset")?)
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Self, TfliteError> {
        let soffset = i64::from(i32::read(buf, pos, "table")?);
        let vtable = usize::try_from(pos as i64 - soffset).map_err(|_| {
            malformed(format!(
                "table at byte {pos} has its vtable before the file"
            ))
        })?;
        let vtable_len = usize::from(u16::read(buf, vtable, "vtable length")?);
        if vtable_len < 4
            || vtable
                .checked_add(vtable_len)
                .is_none_or(|end| end > buf.len())
        {
            return Err(malformed(format!(
                "vtable at byte {vtable} of length {vtable_len}"
            )));
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            fields: (vtable_len - 4) / 2,
        })
    }

    /// Where field `index` is stored, or `None` when it is absent (default value).
    fn field(&self, index: usize) -> Result<Option<usize>, TfliteError> {
        if index >= self.fields {
            return Ok(None);
        }
        let offset = usize::from(u16::read(
            self.buf,
            self.vtable + 4 + 2 * index,
            "vtable entry",
        )?);
        Ok((offset != 0).then_some(self.pos + offset))
    }

    /// Scalar field `index`, or `default` when absent.
    pub fn scalar<T: Scalar>(&self, index: usize, default: T) -> Result<T, TfliteError> {
        match self.field(index)? {
            Some(at) => T::read(self.buf, at, "scalar field"),
            None => Ok(default),
        }
    }

    /// Table field `index`.
    pub fn table(&self, index: usize) -> Result<Option<Table<'a>>, TfliteError> {
        match self.field(index)? {
            Some(at) => Table::at(self.buf, follow(self.buf, at, "table field")?).map(Some),
            None => Ok(None),
        }
    }

    /// Vector field `index`.
    pub fn vector(&self, index: usize) -> Result<Option<Vector<'a>>, TfliteError> {
        match self.field(index)? {
            Some(at) => Vector::at(self.buf, follow(self.buf, at, "vector field")?).map(Some),
            None => Ok(None),
        }
    }

    /// String field `index` (UTF-8, lossily).
    pub fn string(&self, index: usize) -> Result<Option<String>, TfliteError> {
        self.vector(index)?
            .map(|v| v.bytes(1).map(|b| String::from_utf8_lossy(b).into_owned()))
            .transpose()
    }
}

/// A vector: its element count and where the elements start.
#[derive(Debug, Clone, Copy)]
pub struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
}

impl<'a> Vector<'a> {
    fn at(buf: &'a [u8], pos: usize) -> Result<Self, TfliteError> {
        let len = u32_at(buf, pos, "vector length")? as usize;
        Ok(Vector {
            buf,
            start: pos + 4,
            len,
        })
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw bytes of the elements, `element_size` bytes each.
    pub fn bytes(&self, element_size: usize) -> Result<&'a [u8], TfliteError> {
        self.len
            .checked_mul(element_size)
            .and_then(|n| self.start.checked_add(n))
            .and_then(|end| self.buf.get(self.start..end))
            .ok_or_else(|| {
                malformed(format!(
                    "vector of {} elements at byte {} runs past the file",
                    self.len, self.start
                ))
            })
    }

    /// Element `i` of a vector of tables.
    pub fn table(&self, i: usize) -> Result<Table<'a>, TfliteError> {
        if i >= self.len {
            return Err(malformed(format!(
                "element {i} of a {}-element vector",
                self.len
            )));
        }
        let at = self.start + 4 * i;
        Table::at(self.buf, follow(self.buf, at, "vector element")?)
    }

    /// Every element of a vector of tables.
    pub fn tables(&self) -> impl Iterator<Item = Result<Table<'a>, TfliteError>> + '_ {
        (0..self.len).map(|i| self.table(i))
    }

    /// The elements of a vector of scalars.
    pub fn scalars<T: Scalar>(&self) -> Result<Vec<T>, TfliteError> {
        let size = std::mem::size_of::<T>();
        let bytes = self.bytes(size)?;
        (0..self.len)
            .map(|i| T::read(bytes, i * size, "vector element"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built buffer: root -> table { 0: i32 = 7, 1: vector<i32> [1, 2], 2: absent }.
    fn sample() -> Vec<u8> {
        let mut buf = Vec::new();
        buf.extend_from_slice(&16u32.to_le_bytes()); // 0: root offset -> table at 16
        for v in [10u16, 12, 4, 8, 0] {
            // 4: vtable: its length, the table's, field 0 at +4, field 1 at +8, 2 absent
            buf.extend_from_slice(&v.to_le_bytes());
        }
        buf.extend_from_slice(&[0; 2]); // 14: padding
        buf.extend_from_slice(&12i32.to_le_bytes()); // 16: table, vtable at 16 - 12
        buf.extend_from_slice(&7i32.to_le_bytes()); // 20: field 0
        buf.extend_from_slice(&8u32.to_le_bytes()); // 24: field 1 -> vector at 32
        buf.extend_from_slice(&[0; 4]); // 28: padding
        buf.extend_from_slice(&2u32.to_le_bytes()); // 32: vector length
        buf.extend_from_slice(&1i32.to_le_bytes());
        buf.extend_from_slice(&2i32.to_le_bytes());
        buf
    }

    #[test]
    fn reads_fields_vectors_and_defaults() {
        let buf = sample();
        let root = Table::root(&buf).unwrap();
        assert_eq!(root.scalar::<i32>(0, 0).unwrap(), 7);
        assert_eq!(
            root.vector(1).unwrap().unwrap().scalars::<i32>().unwrap(),
            [1, 2]
        );
        assert_eq!(root.scalar::<i32>(2, 42).unwrap(), 42);
        assert_eq!(root.scalar::<i32>(9, -1).unwrap(), -1);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let buf = sample();
        for len in 0..buf.len() {
            let short = &buf[..len];
            let read = Table::root(short).and_then(|t| {
                t.scalar::<i32>(0, 0)?;
                t.vector(1)?.map(|v| v.scalars::<i32>()).transpose()
            });
            assert!(read.is_err(), "length {len}");
        }
    }

    #[test]
    fn a_huge_vector_length_is_an_error() {
        let mut buf = sample();
        buf[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        let root = Table::root(&buf).unwrap();
        assert!(root.vector(1).unwrap().unwrap().scalars::<i32>().is_err());
    }
}
