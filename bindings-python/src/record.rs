//! Core records as Python dicts and lists, built from their serde shape in Rust: no JSON text
//! is written or parsed on the way.
//!
//! The values are those `json.loads` would give for the record's JSON, so every record keeps
//! the shape it has in the JSON exposition and the fixtures: dicts keep field order, integers
//! are `int`, floats `float`, tuples lists, and a non-finite float is `None` (JSON has no NaN
//! or infinity, and the JSON records document `null` for them).

use std::convert::Infallible;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use serde::ser::{self, Serialize};

/// `value` as Python objects.
pub fn to_python<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    value
        .serialize(Builder(py))
        .map(Bound::unbind)
        .map_err(|e| e.0)
}

/// Why a record could not be built: a Python error, or a shape Python cannot hold.
#[derive(Debug)]
pub struct Error(PyErr);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(PyValueError::new_err(format!(
            "cannot build a record: {msg}"
        )))
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Self(e)
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The serde serializer that builds Python objects, following `serde_json`'s data model.
#[derive(Clone, Copy)]
struct Builder<'py>(Python<'py>);

impl<'py> Builder<'py> {
    fn int<T>(self, v: T) -> Bound<'py, PyAny>
    where
        T: IntoPyObject<'py, Target = PyInt, Output = Bound<'py, PyInt>, Error = Infallible>,
    {
        let Ok(int) = v.into_pyobject(self.0);
        int.into_any()
    }

    fn float(self, v: f64) -> Bound<'py, PyAny> {
        if v.is_finite() {
            PyFloat::new(self.0, v).into_any()
        } else {
            self.0.None().into_bound(self.0)
        }
    }

    fn none(self) -> Bound<'py, PyAny> {
        self.0.None().into_bound(self.0)
    }
}

impl<'py> ser::Serializer for Builder<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = Seq<'py>;
    type SerializeTuple = Seq<'py>;
    type SerializeTupleStruct = Seq<'py>;
    type SerializeTupleVariant = Variant<Seq<'py>>;
    type SerializeMap = Map<'py>;
    type SerializeStruct = Map<'py>;
    type SerializeStructVariant = Variant<Map<'py>>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok> {
        Ok(PyBool::new(self.0, v).to_owned().into_any())
    }
    fn serialize_i8(self, v: i8) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Self::Ok> {
        Ok(self.int(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Self::Ok> {
        Ok(self.float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok> {
        Ok(self.float(v))
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok> {
        Ok(PyString::new(self.0, v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok> {
        Ok(PyList::new(self.0, v)?.into_any())
    }
    fn serialize_none(self) -> Result<Self::Ok> {
        Ok(self.none())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok> {
        Ok(self.none())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok> {
        Ok(self.none())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        let dict = PyDict::new(self.0);
        dict.set_item(variant, value.serialize(self)?)?;
        Ok(dict.into_any())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'py>> {
        Ok(Seq(self, Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'py>> {
        Ok(Seq(self, Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'py>> {
        Ok(Seq(self, Vec::with_capacity(len)))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq<'py>>> {
        Ok(Variant(variant, Seq(self, Vec::with_capacity(len))))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'py>> {
        Ok(Map::new(self))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Map<'py>> {
        Ok(Map::new(self))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Map<'py>>> {
        Ok(Variant(variant, Map::new(self)))
    }
}

/// A list being built.
struct Seq<'py>(Builder<'py>, Vec<Bound<'py, PyAny>>);

impl<'py> ser::SerializeSeq for Seq<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.1.push(value.serialize(self.0)?);
        Ok(())
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(PyList::new(self.0.0, self.1)?.into_any())
    }
}

impl<'py> ser::SerializeTuple for Seq<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Self::Ok> {
        ser::SerializeSeq::end(self)
    }
}

impl<'py> ser::SerializeTupleStruct for Seq<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Self::Ok> {
        ser::SerializeSeq::end(self)
    }
}

/// A dict being built; a map's key waits here for its value.
struct Map<'py> {
    builder: Builder<'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
}

impl<'py> Map<'py> {
    fn new(builder: Builder<'py>) -> Self {
        Self {
            builder,
            dict: PyDict::new(builder.0),
            key: None,
        }
    }
}

impl<'py> ser::SerializeMap for Map<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        let key = key.serialize(self.builder)?;
        // As in JSON, a key is text: a number key becomes its decimal string.
        self.key = Some(if key.is_instance_of::<PyString>() {
            key
        } else if key.is_instance_of::<PyInt>() || key.is_instance_of::<PyFloat>() {
            key.str()?.into_any()
        } else {
            return Err(ser::Error::custom("a map key must be a string or a number"));
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value came without its key"))?;
        self.dict.set_item(key, value.serialize(self.builder)?)?;
        Ok(())
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(self.dict.into_any())
    }
}

impl<'py> ser::SerializeStruct for Map<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.dict.set_item(key, value.serialize(self.builder)?)?;
        Ok(())
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(self.dict.into_any())
    }
}

/// An enum variant with fields: `{variant: fields}`.
struct Variant<T>(&'static str, T);

impl<'py> ser::SerializeTupleVariant for Variant<Seq<'py>> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(&mut self.1, value)
    }
    fn end(self) -> Result<Self::Ok> {
        let py = self.1.0.0;
        let dict = PyDict::new(py);
        dict.set_item(self.0, ser::SerializeSeq::end(self.1)?)?;
        Ok(dict.into_any())
    }
}

impl<'py> ser::SerializeStructVariant for Variant<Map<'py>> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.1, key, value)
    }
    fn end(self) -> Result<Self::Ok> {
        let py = self.1.builder.0;
        let dict = PyDict::new(py);
        dict.set_item(self.0, ser::SerializeStruct::end(self.1)?)?;
        Ok(dict.into_any())
    }
}
